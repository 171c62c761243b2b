/* engine_noop.c: a strategy that computes nothing: it prints one valid
 * @@result and exits, so a deployment's time is all engine overhead. */
#include <stdio.h>

int main(void)
{
    fputs("@@result {\"sharpe\":0,\"total_return\":0}\n", stdout);
    return 0;
}
