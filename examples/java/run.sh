#!/usr/bin/env bash
# meson test's runner for Closs.java: finds a JDK 22+ (JAVA_HOME, java on PATH,
# then /usr/lib/jvm/*), else exits 77 (meson's "skipped").
lib=${1:?usage: run.sh LIBCLOSS_SO}
here=$(dirname "$0")
major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
for java in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java)" /usr/lib/jvm/*/bin/java; do
    [ -x "$java" ] || continue
    v=$(major "$java")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 22 ] 2>/dev/null; then
        echo "using $java (Java $v)"
        exec "$java" --enable-native-access=ALL-UNNAMED "$here/Closs.java" "$lib"
    fi
done
echo "SKIP: no JDK 22 or newer found (the foreign function API is final since 22); set JAVA_HOME"
exit 77
