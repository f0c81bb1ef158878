# Warnings and sanitizers, applied per target through breaker_target_defaults().
add_library(breaker_defaults INTERFACE)
target_compile_options(breaker_defaults INTERFACE
    -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wno-missing-field-initializers)
target_compile_definitions(breaker_defaults INTERFACE
    QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_URL_CAST_FROM_STRING
    QT_NO_CAST_FROM_BYTEARRAY QT_USE_QSTRINGBUILDER QT_NO_FOREACH)
target_include_directories(breaker_defaults INTERFACE
    ${CMAKE_SOURCE_DIR} ${CMAKE_BINARY_DIR}/generated)
if(BREAKER_WERROR)
    target_compile_options(breaker_defaults INTERFACE -Werror)
endif()
if(BREAKER_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()
if(BREAKER_FUZZ)
    # libFuzzer (scripts/dev run_fuzzers). Every library the fuzz targets link is instrumented
    # for coverage and the sanitizers; tests/fuzz adds -fsanitize=fuzzer to the executables.
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "BREAKER_FUZZ needs clang: CC=clang CXX=clang++ cmake -DBREAKER_FUZZ=ON")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()

function(breaker_target_defaults target)
    target_link_libraries(${target} PRIVATE breaker_defaults)
endfunction()
