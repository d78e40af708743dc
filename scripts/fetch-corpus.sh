#!/usr/bin/env bash
# Downloads the two applications whose upsert sites tests/adoption/corpus replays, at pinned
# versions from their package registries (crates.io, PyPI; nothing from GitHub), checks
# each archive's sha256, and extracts only their migration/schema files into the cache:
#
#   $ATOMIC_UPSERT_CORPUS_DIR (default: target/corpus under the repository root)
#     lemmy_db_schema-0.19.20/migrations/<233 dirs>/up.sql
#     lemmy_db_schema-0.19.20/replaceable_schema/{utils,triggers}.sql
#     matrix_synapse-1.157.1/synapse/storage/schema/...   (full_schemas/72, delta/73..94)
#
# The applications' files are never committed: scripts/ensure-deps.sh runs this script
# before the tests, and the test fails (it never skips) when the files are missing.
# Idempotent: a package whose files are already extracted is skipped without a download.
# Needs curl, tar and sha256sum (or shasum).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${ATOMIC_UPSERT_CORPUS_DIR:-$REPO/target/corpus}"
mkdir -p "$DIR"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

# GNU tar needs --wildcards for glob member names; bsdtar (macOS) globs by default.
WILDCARDS=()
case "$(tar --version 2>/dev/null || true)" in
    *"GNU tar"*) WILDCARDS=(--wildcards) ;;
esac

# Half-done downloads go away however the script ends.
TEMPS=()
cleanup() {
    if [ "${#TEMPS[@]}" -gt 0 ]; then rm -rf "${TEMPS[@]}"; fi
}
trap cleanup EXIT

# fetch NAME URL SHA256 MEMBER...: NAME is the archive's top directory, MEMBER the globs
# of the files to extract. Marks a finished extraction with NAME/.complete.
fetch() {
    local name="$1" url="$2" sha256="$3"
    shift 3
    if [ -f "$DIR/$name/.complete" ]; then
        return 0
    fi
    echo "==> corpus: downloading $url"
    local tmp
    tmp="$(mktemp -d "$DIR/.fetch-$name.XXXXXX")"
    TEMPS+=("$tmp")
    curl --proto '=https' --tlsv1.2 -sSfL --retry 3 -o "$tmp/archive" "$url"
    local got
    got="$(sha256_of "$tmp/archive")"
    if [ "$got" != "$sha256" ]; then
        echo "error: $url has sha256 $got, expected $sha256" >&2
        return 1
    fi
    mkdir "$tmp/out"
    tar xzf "$tmp/archive" -C "$tmp/out" ${WILDCARDS[@]+"${WILDCARDS[@]}"} "$@"
    touch "$tmp/out/$name/.complete"
    rm -rf "${DIR:?}/$name"
    mv "$tmp/out/$name" "$DIR/$name"
    echo "==> corpus: $name extracted into $DIR/$name"
}

# Lemmy: crates.io `lemmy_db_schema` 0.19.20 (its Diesel migrations and the "replaceable
# schema" of trigger functions).
fetch lemmy_db_schema-0.19.20 \
    https://static.crates.io/crates/lemmy_db_schema/lemmy_db_schema-0.19.20.crate \
    9f48c71b6ab652e7009270b4b559c08c7d814dc2bec8798722d02d6a8463e7d1 \
    'lemmy_db_schema-0.19.20/migrations/*/up.sql' \
    'lemmy_db_schema-0.19.20/replaceable_schema/*.sql'

# Synapse: PyPI `matrix-synapse` 1.157.1 sdist (synapse/storage/schema: SCHEMA_VERSION in
# __init__.py, the full schemas of version 72 and the deltas 73..94).
fetch matrix_synapse-1.157.1 \
    https://files.pythonhosted.org/packages/3f/1f/53fe5f6748b7fa9fb1cee6690771398fd9a667639245029d5588f1994fc6/matrix_synapse-1.157.1.tar.gz \
    513a01739f0668ce4028ae19f7a7bc1d28e46fa9c1ce170793109c85cf06f410 \
    'matrix_synapse-1.157.1/synapse/storage/schema/*'
