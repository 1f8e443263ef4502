# Writes a man page: the page's source (IN) with @OPTIONS@ replaced by what PROGRAM --help-man
# prints (its option tables as roff), and the other @VARIABLES@ by their values. Run by
# deploy/CMakeLists.txt after the program is built:
#   cmake -DPROGRAM=... -DIN=... -DOUT=... -DPROJECT_VERSION=... -DADMIT_ENV_FILE=...
#         -DTEMPLATES=... -DNGINX_EXAMPLE=... -P gen-man.cmake
execute_process(COMMAND ${PROGRAM} --help-man OUTPUT_VARIABLE OPTIONS RESULT_VARIABLE rc
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} --help-man failed (${rc}): ${err}")
endif()
string(REGEX REPLACE "\n$" "" OPTIONS "${OPTIONS}")
configure_file(${IN} ${OUT} @ONLY)
