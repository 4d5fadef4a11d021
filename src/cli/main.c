/* opentp: the command-line entry point. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fputs("usage: opentp <command> [options]\n"
          "\n"
          "commands:\n"
          "  init     --data DIR                         create a platform (key + database)\n"
          "  demo     --data DIR [--beneficiaries N] [--seed S] [--if-absent]\n"
          "                                              create a demo platform with a synthetic\n"
          "                                              population\n"
          "  serve    --data DIR [--listen ADDR:PORT] [--threads N] [--access-log FILE|-|off]\n"
          "           [--port-file F] [--exit-after SECONDS] [--banner]\n"
          "                                              run the HTTP API\n"
          "  import beneficiaries --data DIR --amc NUMBER FILE.csv\n"
          "                                              bulk-load an insurer's beneficiaries\n"
          "  ps token create --data DIR --ps IDENTIFIER [--label L] [--expires-days N]\n"
          "  ps token revoke --data DIR --id N\n"
          "  ps token list   --data DIR --ps IDENTIFIER  manage PS API tokens\n"
          "  user add --data DIR --login L --role R [--ps ID | --amc N | --member A:M:R]\n"
          "                                              create an account (password, TOTP)\n"
          "  totp-code SECRET                            current TOTP code of a secret\n"
          "  incident assess --data DIR (--account ID | --token ID | --ps ID | --network CIDR)\n"
          "           [--from D] [--to D] (--out FOLDER | --dry-run)\n"
          "                                              exact list of exposed people, notices,\n"
          "                                              containment\n"
          "  audit verify|prove|events --data DIR        check the access log against its\n"
          "                                              signed heads, give proofs, list events\n"
          "  pay      --data DIR [--date YYYY-MM-DD]    pay accepted claims: SEPA file, advices,\n"
          "                                              AMC statements (also: pay account|list)\n"
          "  advance  propose|grant --data DIR --ps ID [--amount EUR]\n"
          "                                              advances (acomptes) to a PS\n"
          "  cards    --data DIR --count K [--profession P] [--out FILE]\n"
          "                                              sample card data of the demo population\n"
          "                                              (for benchmarks and tries)\n"
          "  simulate --data DIR [--ps N] [--clock-speed K] [--attacks LIST]\n"
          "                                              a working day of PS and the 2024 attack\n"
          "                                              against the real server (scaled clock)\n"
          "\n"
          "DIR defaults to " TP_DEFAULT_DATA ". Run 'opentp <command> --help' for details.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TP_EXIT_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "help") == 0) {
        usage(stdout);
        return TP_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"init", cmd_init}, {"demo", cmd_demo},           {"serve", cmd_serve},
                {"ps", cmd_ps},     {"import", cmd_import},       {"cards", cmd_cards},
                {"user", cmd_user}, {"totp-code", cmd_totp_code}, {"audit", cmd_audit}, {"incident", cmd_incident},
                {"pay", cmd_pay},   {"advance", cmd_advance},
                {"simulate", cmd_simulate}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(c, cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "opentp: unknown command '%s'\n\n", c);
    usage(stderr);
    return TP_EXIT_USAGE;
}
