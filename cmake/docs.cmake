# The API reference: Doxygen over the public headers and the detail classes
# whose members are public API (detail::Window, the typed API of FileMapping
# and View; detail::NamedFactory, their create/open_or_create;
# detail::Sender and detail::Receiver, the loans and receives of Channel,
# Topic and Subscriber).
# Every public member must be documented: a warning fails the build.
find_package(Doxygen 1.9 REQUIRED)
set(DOXYGEN_PROJECT_NAME filemap)
set(DOXYGEN_PROJECT_BRIEF "${PROJECT_DESCRIPTION}")
set(DOXYGEN_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/docs)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_EXTRACT_ALL NO)
set(DOXYGEN_EXTRACT_PRIVATE NO)
set(DOXYGEN_WARN_IF_UNDOCUMENTED YES)
set(DOXYGEN_WARN_NO_PARAMDOC NO)
set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
set(DOXYGEN_INLINE_INHERITED_MEMB YES)
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
set(DOXYGEN_FULL_PATH_NAMES YES)
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/README.md)
set(DOXYGEN_EXCLUDE_SYMBOLS "filemap::detail::Mapping" "filemap::detail::NamedRequest"
    "filemap::detail::Error" "filemap::detail::SystemError")
set(filemap_public
    error.hpp name.hpp options.hpp file_mapping.hpp view.hpp named_mutex.hpp channel.hpp
    loan.hpp topic.hpp shared.hpp
    detail/window.hpp detail/factory.hpp detail/sender.hpp detail/receiver.hpp)
list(TRANSFORM filemap_public PREPEND ${PROJECT_SOURCE_DIR}/include/filemap/)
doxygen_add_docs(docs ${filemap_public} ${PROJECT_SOURCE_DIR}/README.md
    COMMENT "API reference in ${PROJECT_BINARY_DIR}/docs/html")
