// closs from Java with the foreign function and memory API (java.lang.foreign,
// final since JDK 22): no JNI, no generated code. Run as a single-file program:
//
//   java --enable-native-access=ALL-UNNAMED Closs.java /path/to/libcloss.so
//
// C enums (closs_status, closs_reduction) are int, int64_t is long, and arrays
// are off-heap segments allocated in a confined arena, freed when it closes.
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

public class Closs {
    static final int CLOSS_OK = 0, CLOSS_ERR_INDEX_OUT_OF_RANGE = 5;
    static final int CLOSS_REDUCTION_NONE = 0, CLOSS_REDUCTION_MEAN = 1;

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE;
    static final ValueLayout ADDR = ValueLayout.ADDRESS;

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(args[0]), arena);
            MethodHandle version = linker.downcallHandle(
                lib.find("closs_version_string").orElseThrow(), FunctionDescriptor.of(ADDR));
            MethodHandle statusString = linker.downcallHandle(
                lib.find("closs_status_string").orElseThrow(), FunctionDescriptor.of(ADDR, INT));
            // closs_mse_loss_fused_f32(n, input, target, weight, reduction, out, grad_input)
            MethodHandle mseFused = linker.downcallHandle(
                lib.find("closs_mse_loss_fused_f32").orElseThrow(),
                FunctionDescriptor.of(INT, I64, ADDR, ADDR, ADDR, INT, ADDR, ADDR));
            // closs_cross_entropy_f64(n, c, s, input, target, weight, ignore_index,
            //                         label_smoothing, reduction, out)
            MethodHandle crossEntropy = linker.downcallHandle(
                lib.find("closs_cross_entropy_f64").orElseThrow(),
                FunctionDescriptor.of(INT, I64, I64, I64, ADDR, ADDR, ADDR, I64, F64, INT, ADDR));

            MemorySegment input = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f, 2f, 3f, 4f);
            MemorySegment target = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f, 2f, 5f, 4f);
            MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT);
            MemorySegment grad = arena.allocate(ValueLayout.JAVA_FLOAT, 4);
            int st = (int) mseFused.invokeExact(4L, input, target, MemorySegment.NULL,
                                                CLOSS_REDUCTION_MEAN, out, grad);
            float mse = out.get(ValueLayout.JAVA_FLOAT, 0);
            float[] g = grad.toArray(ValueLayout.JAVA_FLOAT);
            boolean ok = st == CLOSS_OK && near(mse, 1.25) && near(g[0], 0.5) && near(g[1], 0)
                && near(g[2], -1) && near(g[3], 0);

            MemorySegment logits = arena.allocateFrom(F64, 0, 0, 0, 1, 2, 3);
            MemorySegment rows = arena.allocate(F64, 2);
            st = (int) crossEntropy.invokeExact(2L, 3L, 1L, logits, arena.allocateFrom(I64, 0L, 2L),
                                                MemorySegment.NULL, -100L, 0.0,
                                                CLOSS_REDUCTION_NONE, rows);
            double r0 = rows.getAtIndex(F64, 0), r1 = rows.getAtIndex(F64, 1);
            ok = ok && st == CLOSS_OK && near(r0, Math.log(3))
                && near(r1, Math.log(1 + Math.exp(-1) + Math.exp(-2)));

            st = (int) crossEntropy.invokeExact(2L, 3L, 1L, logits, arena.allocateFrom(I64, 0L, 7L),
                                                MemorySegment.NULL, -100L, 0.0,
                                                CLOSS_REDUCTION_MEAN, rows);
            ok = ok && st == CLOSS_ERR_INDEX_OUT_OF_RANGE;
            System.out.println("expected error: " + cString((MemorySegment) statusString.invokeExact(st)));
            System.out.printf("closs %s from Java: mse %.4f, cross_entropy rows %.6f %.6f: %s%n",
                              cString((MemorySegment) version.invokeExact()), mse, r0, r1,
                              ok ? "ok" : "WRONG");
            System.exit(ok ? 0 : 1);
        }
    }

    /** A static C string returned by closs (its length is unknown to Java: reinterpret). */
    static String cString(MemorySegment p) {
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    static boolean near(double a, double b) {
        return Math.abs(a - b) <= 1e-6 * (1 + Math.abs(b));
    }
}
