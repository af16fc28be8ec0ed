/*
 * pointwise_loss.h - instantiates pointwise.h for float and double, then
 * forgets the loss's definitions so that the next loss can be defined.
 * A loss without parameters leaves PW_PARAM undefined.
 */
#ifndef PW_PARAM
#define PW_PARAM
#define PW_PARAM_OK 1
#endif
#ifndef PW_P0
#define PW_P0 0.0
#endif
#ifndef PW_P1
#define PW_P1 0.0
#endif
#ifndef PW_P2
#define PW_P2 0.0
#endif
#ifndef PW_HAS_AUX
#define PW_HAS_AUX 0
#define PW_AUX NULL
#define PW_AUX_ABSENT 0
#endif
#ifndef PW_AUX_REQUIRED
#define PW_AUX_REQUIRED 0
#endif
#ifndef PW_PARALLEL_MIN
#define PW_PARALLEL_MIN CLOSS_STREAM_PARALLEL_MIN
#endif

#define PW_T float
#define PW_SFX f32
#include "pointwise.h"
#undef PW_T
#undef PW_SFX

#define PW_T double
#define PW_SFX f64
#include "pointwise.h"
#undef PW_T
#undef PW_SFX

#undef PW_NAME
#undef PW_POINT
#undef PW_PARAM
#undef PW_P0
#undef PW_P1
#undef PW_P2
#undef PW_DOMAIN
#undef PW_HAS_AUX
#undef PW_AUX
#undef PW_AUX_ABSENT
#undef PW_AUX_REQUIRED
#undef PW_AUX_GRAD
#undef PW_AUX_GRAD_OUT
#undef PW_PARAM_OK
#undef PW_MEAN_BY_WSUM
#undef PW_PARALLEL_MIN
