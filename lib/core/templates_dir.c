/* Where admitd and admit mailer find their templates when --templates is not given. */
#include <string.h>
#include <unistd.h>

#include "admit/core/opts.h"

#ifndef ADMIT_DEFAULT_TEMPLATES
#error "ADMIT_DEFAULT_TEMPLATES (the installed templates) is set by CMakeLists.txt"
#endif
#ifndef ADMIT_BUILD_DIR
#error "ADMIT_BUILD_DIR and ADMIT_SOURCE_TEMPLATES are set by CMakeLists.txt"
#endif

/* Whether this process runs a binary below the build folder it was compiled in. */
static int run_from_build_dir(void)
{
    char exe[4096];
    static const char build[] = ADMIT_BUILD_DIR "/";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0)
        return 0;
    exe[n] = '\0';
    return strncmp(exe, build, sizeof build - 1) == 0;
}

const char *cli_templates_dir(const struct cli_args *args)
{
    if (cli_given(args, "templates") || !run_from_build_dir())
        return cli_get(args, "templates");
    return ADMIT_SOURCE_TEMPLATES;
}
