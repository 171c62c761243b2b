/*
 * gendoc.h: the manual page swarmdeck(1) and the bash, zsh and fish
 * completions, written from the command table (main.c), so they list
 * exactly the commands and options the binary parses.
 */
#ifndef SD_CLI_GENDOC_H
#define SD_CLI_GENDOC_H

#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* Whether option opt of command cmd (a global one when global) applies
 * there: what help prints is what the documents list. */
typedef int (*gendoc_applies)(const char *cmd, const char *opt, int global);

/* Write `what` ("man", "bash", "zsh" or "fish") to f for the n commands
 * and the ng global options (the commands' tables are read, nothing is
 * kept), leaving out the options applies says do not apply to a command.
 * version goes into the man page's header. Returns 0, or -1 when what is
 * none of those. */
int gendoc_write(FILE *f, const char *what, const char *version, const struct cli_cmd *const *cmds,
                 size_t n, const struct cli_opt *globals, size_t ng, gendoc_applies applies);

#endif
