/*
 * check.h - the harness of the C unit tests: CHECK counts the failed
 * conditions, close_to compares with a relative tolerance (NaN equals NaN only),
 * check_summary prints the outcome and gives main's exit code.
 */
#ifndef CLOSS_TEST_CHECK_H
#define CLOSS_TEST_CHECK_H

#include <math.h>
#include <stdio.h>

static int failures = 0;

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) {                                                \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            ++failures;                                               \
        }                                                             \
    } while (0)

static int close_to(double a, double b, double rtol)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= rtol * fabs(b) + 1e-300;
}

static int check_summary(void)
{
    if (failures) {
        printf("%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}

#endif /* CLOSS_TEST_CHECK_H */
