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
