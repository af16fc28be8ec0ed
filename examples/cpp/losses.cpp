// Embedding closs from C++17: the C header as is (it has extern "C"), a status
// check that throws, standard containers for the buffers.
//
//   c++ -std=c++17 losses.cpp $(pkg-config --cflags --libs closs) -o losses
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "closs.h"

namespace {

void check(closs_status st)
{
    if (st != CLOSS_OK) throw std::runtime_error(closs_status_string(st));
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-6 * (1.0 + std::fabs(b)); }

}  // namespace

int main()
{
    // mse_loss value and gradient in one pass: d = [1, 0, -2, 0].
    const std::vector<float> input{1, 2, 3, 4}, target{0, 2, 5, 4};
    std::vector<float> grad(input.size());
    float mse = 0;
    check(closs_mse_loss_fused_f32(static_cast<std::int64_t>(input.size()), input.data(),
                                   target.data(), nullptr, CLOSS_REDUCTION_MEAN, &mse,
                                   grad.data()));
    const std::array<float, 4> grad_expected{0.5f, 0.0f, -1.0f, 0.0f};
    bool ok = near(mse, 1.25);
    for (std::size_t i = 0; i < grad.size(); ++i) ok = ok && near(grad[i], grad_expected[i]);

    // cross_entropy over 2 rows of 3 classes, one value per row.
    const std::array<double, 6> logits{0, 0, 0, 1, 2, 3};
    const std::array<std::int64_t, 2> labels{0, 2};
    std::array<double, 2> rows{};
    check(closs_cross_entropy_f64(2, 3, 1, logits.data(), labels.data(), nullptr, -100, 0.0,
                                  CLOSS_REDUCTION_NONE, rows.data()));
    ok = ok && near(rows[0], std::log(3.0)) &&
         near(rows[1], 3.0 + std::log(1.0 + std::exp(-1.0) + std::exp(-2.0)) - 3.0);

    // A class index out of range is a status, which check() turns into an exception.
    const std::array<std::int64_t, 2> bad{0, 7};
    try {
        check(closs_cross_entropy_f64(2, 3, 1, logits.data(), bad.data(), nullptr, -100, 0.0,
                                      CLOSS_REDUCTION_MEAN, rows.data()));
        ok = false;
    } catch (const std::runtime_error &e) {
        std::printf("expected error: %s\n", e.what());
    }
    std::printf("closs %s: mse %.4f, cross_entropy rows %.6f %.6f: %s\n", closs_version_string(),
                mse, rows[0], rows[1], ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
