// 04-file: a file on disk, mapped, written, flushed and read back.
//
//     04-file [path]
#include <filemap/filemap.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

int main(int argc, char** argv)
{
    const std::filesystem::path path =
        argc > 1 ? std::filesystem::path(argv[1])
                 : std::filesystem::temp_directory_path() / "filemap-datafile.bin";
    std::ofstream(path, std::ios::binary).close(); // an empty file; map_file never creates one

    {
        // Growing needs read_write and a size: the file becomes 1024 bytes.
        auto file = filemap::FileMapping::map_file(path, filemap::Access::read_write, 1024);
        file.write("Hello, Memory-Mapped File!");
        file.flush(); // on disk when this returns
    }
    std::printf("%s is %ju bytes\n", path.string().c_str(),
                static_cast<std::uintmax_t>(std::filesystem::file_size(path)));

    const auto file = filemap::FileMapping::map_file(path); // read-only, whole file
    std::printf("data from memory-mapped file: %s\n", file.read_string().c_str());
    std::filesystem::remove(path);
    return 0;
}
