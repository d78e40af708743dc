-- The tables the compile-fail cases in tests/ui-schema are checked against. The snapshot
-- next to it (atomic-upsert.schema) is `atomic-upsert-cli prepare` of these, in a schema
-- named `app`; atomic-upsert-cli's tests prove it (ATOMIC_UPSERT_BLESS=1 rewrites it).
CREATE TABLE strava_stats (stats_type text PRIMARY KEY, data jsonb NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE scores (id int8 PRIMARY KEY, score text NOT NULL, total int4 NOT NULL);
CREATE TABLE no_index (email text NOT NULL, name text NOT NULL);
CREATE TABLE users (email text NOT NULL, name text NOT NULL, deleted bool NOT NULL DEFAULT false);
CREATE UNIQUE INDEX users_live ON users (email) WHERE NOT deleted;
CREATE TABLE counters (name text PRIMARY KEY, hits text NOT NULL);
CREATE TABLE documents (id int8 PRIMARY KEY, body json NOT NULL);
CREATE TABLE slots (team int8 NOT NULL, slot int4, player text NOT NULL);
CREATE UNIQUE INDEX slots_key ON slots (team, slot);
CREATE TABLE profiles (id int8 PRIMARY KEY, nickname text NOT NULL, email text NOT NULL, owner text NOT NULL);
CREATE TABLE auth (id int4 CONSTRAINT auth_pkey PRIMARY KEY, token text NOT NULL);
CREATE TABLE doubled (id int8 PRIMARY KEY, twice int8 GENERATED ALWAYS AS (id * 2) STORED);
CREATE VIEW live_users AS SELECT email, name FROM users WHERE NOT deleted;
CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE ci_emails (email text COLLATE case_insensitive PRIMARY KEY, name text NOT NULL);
CREATE TABLE readings (sensor int8, day int4, value float8 NOT NULL, PRIMARY KEY (sensor, day)) PARTITION BY RANGE (day);
CREATE TABLE readings_early PARTITION OF readings FOR VALUES FROM (MINVALUE) TO (100);
CREATE TABLE readings_late PARTITION OF readings FOR VALUES FROM (100) TO (MAXVALUE);
CREATE TABLE seats (seat int4 CONSTRAINT seats_seat_key UNIQUE DEFERRABLE, holder text NOT NULL);
CREATE TABLE handles (handle text NOT NULL UNIQUE, owner int8 NOT NULL, retired bool NOT NULL DEFAULT false);
