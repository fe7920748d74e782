-- pgsse schema upgrade step from version 1 (the first release) to 2: the
-- schema knows its version. pgsse-schema(1) runs each step in one
-- transaction, so a step has no BEGIN or COMMIT, after checking the
-- database's version; the step ends by setting the next one. Whatever
-- a step creates must come out exactly as sql/pgsse.sql creates it
-- (tests/check_schema.c compares the two), and a step never rewrites
-- or empties pgsse.log or pgsse.jobs: every event and job stays.
create or replace function pgsse.schema_version() returns int
language sql stable as $$ select 2 $$;
