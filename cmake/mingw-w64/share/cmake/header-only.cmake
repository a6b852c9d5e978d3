# Exposes one header directory of the host (/usr/include/<dir>) to a cross
# build through a directory of its own, so the host's C library headers
# never reach the cross compiler.
function(filemap_header_only_target target dir)
    if(TARGET ${target})
        return()
    endif()
    set(root ${CMAKE_BINARY_DIR}/host-headers/${dir})
    if(NOT EXISTS ${root}/${dir})
        file(MAKE_DIRECTORY ${root})
        file(CREATE_LINK /usr/include/${dir} ${root}/${dir} SYMBOLIC)
    endif()
    add_library(${target} INTERFACE IMPORTED)
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${root})
endfunction()
