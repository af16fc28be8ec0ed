/*
 * Embedding closs: fit y = a x + b by gradient descent on the Huber loss.
 *
 *   cc fit_line.c $(pkg-config --cflags --libs closs) -o fit_line
 *
 * The fused call returns the loss and d loss / d prediction in one pass; the
 * chain rule to (a, b) is the caller's.
 */
#include <math.h>
#include <stdio.h>

#include "closs.h"

#define N 256

int main(void)
{
    if (closs_version_number() != CLOSS_VERSION_NUMBER) {
        fprintf(stderr, "closs header and library versions differ\n");
        return 1;
    }
    float x[N], y[N], pred[N], grad[N], loss = 0.0f;
    for (int i = 0; i < N; ++i) {
        x[i] = (float)i / N;
        y[i] = 3.0f * x[i] - 1.0f + (i % 17 == 0 ? 5.0f : 0.0f); /* a few outliers */
    }
    float a = 0.0f, b = 0.0f;
    for (int step = 0; step < 2000; ++step) {
        for (int i = 0; i < N; ++i) pred[i] = a * x[i] + b;
        closs_status st = closs_huber_loss_fused_f32(N, pred, y, NULL, 0.5,
                                                     CLOSS_REDUCTION_MEAN, &loss, grad);
        if (st != CLOSS_OK) {
            fprintf(stderr, "closs: %s\n", closs_status_string(st));
            return 1;
        }
        float ga = 0.0f, gb = 0.0f;
        for (int i = 0; i < N; ++i) ga += grad[i] * x[i], gb += grad[i];
        a -= 1.0f * ga;
        b -= 1.0f * gb;
    }
    printf("a = %.3f, b = %.3f, huber loss = %.4f\n", a, b, loss);
    return fabsf(a - 3.0f) < 0.1f && fabsf(b + 1.0f) < 0.1f ? 0 : 1;
}
