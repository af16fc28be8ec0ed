#!/bin/sh
# Fails when a function of the static library loads through an AVX2 masked load
# (vmaskmovps/pd, vpmaskmovd/q with a memory source). GCC 12 at -O3 gave every
# 4-lane group of a 16-lane loop the first group's mask in such loads (a wrong
# multilabel_margin_loss from 16 classes on, rowwise.h); the kernels are
# written so that GCC emits none (classification.h's online() says how), and a
# new one needs its masks audited before it is allowed here. Masked stores are
# listed (gaussian_nll_loss's gradient of var: an all-ones mask, a constant).
objdump="$1"; lib="$2"
"$objdump" -d --no-show-raw-insn "$lib" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $2 }
    /v?p?maskmov/ {
        if ($0 ~ /maskmov[a-z]*[ \t]+[^%]*\(/) loads[fn]++; else stores[fn]++
    }
    END {
        for (f in stores) printf "masked stores: %s %d\n", f, stores[f]
        n = 0
        for (f in loads) { printf "MASKED LOADS: %s %d\n", f, loads[f]; n++ }
        if (n == 0) print "no AVX2 masked load"
        exit n > 0
    }'
