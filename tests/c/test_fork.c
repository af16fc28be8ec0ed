/*
 * C test of fork safety: a process forked after closs ran its OpenMP team
 * (GNU libgomp's pool does not survive fork) must finish, with the parent's
 * result bit for bit. Every child is guarded by alarm(): a hang fails the test
 * with SIGALRM instead of stalling meson test.
 */
#if defined(__unix__) || defined(__unix) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "check.h"
#include "closs.h"

/* 2^22 elements: well above the 2^20 at which mse_loss uses a team. */
#define N (1 << 22)
static float *x, *y;
static float reference; /* the parent's value, on two threads */

static float loss(void)
{
    float out = -1.0f;
    if (closs_mse_loss_f32(N, x, y, NULL, CLOSS_REDUCTION_MEAN, &out) != CLOSS_OK) return -1.0f;
    return out;
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* The child's work: the loss twice (the second reuses whatever team the
 * first made), then on two threads asked for again. 0 if all bit-identical. */
static int child_work(void)
{
    int bad = !same_bits(loss(), reference);
    bad |= !same_bits(loss(), reference);
    closs_set_num_threads(2);
    bad |= !same_bits(loss(), reference);
    return bad;
}

#ifdef _OPENMP
/* child_work in a child that must run serially. */
static int child_work_serial(void)
{
    if (closs_get_num_threads() != 1) return 2;
    return child_work() | (closs_get_num_threads() != 1 ? 4 : 0);
}
#endif

/* Forks, runs child_work in the child under a 10 s alarm, and returns the
 * child's exit code, or 100 + the signal that ended it. */
static int in_child(int (*work)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 99;
    if (pid == 0) {
        alarm(10);
        _exit(work());
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 98;
    if (WIFSIGNALED(status)) return 100 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 97;
}

/* A grandchild: the child uses its team, then forks in turn. */
static int child_forks_again(void)
{
    if (child_work()) return 1;
    return in_child(child_work);
}

static volatile int stop_background = 0;
static void *background_kernels(void *arg)
{
    (void)arg;
    int bad = 0;
    while (!stop_background) bad |= !same_bits(loss(), reference);
    return bad ? (void *)1 : NULL;
}

int main(void)
{
    x = malloc(sizeof(float) * N);
    y = malloc(sizeof(float) * N);
    if (!x || !y) return 1;
    for (long i = 0; i < N; ++i) {
        x[i] = (float)((i * 7919L) % 1009) / 1009.0f;
        y[i] = (float)((i * 104729L) % 997) / 997.0f;
    }
    (void)close_to;
    closs_set_num_threads(2);
    reference = loss(); /* the parent's team now exists */
    CHECK(reference > 0.0f);

    int rc = in_child(child_work);
    printf("child after a team in the parent: %d\n", rc);
    CHECK(rc == 0);

    rc = in_child(child_forks_again);
    printf("grandchild: %d\n", rc);
    CHECK(rc == 0);

    /* The parent's team is back after the fork, with the same result. */
    CHECK(same_bits(loss(), reference));

    /* Forks while another thread is inside a closs kernel. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, background_kernels, NULL) == 0);
    for (int k = 0; k < 5; ++k) {
        rc = in_child(child_work);
        if (rc) printf("fork %d during a kernel in another thread: %d\n", k, rc);
        CHECK(rc == 0);
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    stop_background = 1;
    void *bad = NULL;
    CHECK(pthread_join(t, &bad) == 0);
    CHECK(bad == NULL);

#ifdef _OPENMP
    /* Forks from inside an OpenMP region of the host's, where the pool cannot
     * be released (libgomp refuses inside a region): the child must finish,
     * and runs serially where the release was refused or is unavailable. */
    int in_region = -1, refused = 1;
#pragma omp parallel num_threads(2)
    {
#pragma omp master
        {
#ifdef CLOSS_HAVE_OMP_PAUSE
            refused = omp_pause_resource_all(omp_pause_soft) != 0;
#endif
            in_region = in_child(refused ? child_work_serial : child_work);
        }
    }
    printf("fork inside a parallel region (release %s): %d\n", refused ? "refused" : "done",
           in_region);
    CHECK(in_region == 0);
#endif

    free(x);
    free(y);
    return check_summary();
}

#else
#include <stdio.h>
int main(void)
{
    printf("no fork on this platform: skipped\n");
    return 77;
}
#endif
