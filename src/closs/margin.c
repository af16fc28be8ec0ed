/*
 * margin.c - margin_ranking_loss, multi_margin_loss and multilabel_margin_loss
 * (formulas in closs.h): their class-index checks here, their row functions
 * in margin_rows.h, compiled for float and double.
 */
#include "rowwise_driver.h"

/* multi_margin_loss: sums[0] = how many of rows [b, e) have a target outside [0, d). */
static void multi_margin_check(const void *ctx, int64_t b, int64_t e, double *sums)
{
    const closs_rw_ctx *c = (const closs_rw_ctx *)ctx;
    int64_t bad = 0;
    for (int64_t i = b; i < e; ++i) bad += c->idx[i] < 0 || c->idx[i] >= c->d;
    sums[0] = (double)bad;
}

/* multilabel_margin_loss: sums[0] = how many target entries of rows [b, e) lie
 * outside [-1, d); like torch, the entries after a row's first -1 count too. */
static void multilabel_margin_check(const void *ctx, int64_t b, int64_t e, double *sums)
{
    const closs_rw_ctx *c = (const closs_rw_ctx *)ctx;
    int64_t bad = 0;
    for (int64_t j = b * c->d; j < e * c->d; ++j) bad += c->idx[j] < -1 || c->idx[j] >= c->d;
    sums[0] = (double)bad;
}

#define RW_FAMILY "margin_rows.h"
#include "rowwise_dtypes.h"
