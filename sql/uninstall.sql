-- Removes the pgsse schema: the event log, the jobs, the registry, the
-- settings and every function, and with them whatever depends on them
-- in other schemas (an app's triggers on pgsse.log, views of it). The
-- roles of sql/roles.sql stay (sql/uninstall-roles.sql drops them).
-- pgsse-schema uninstall runs it.
set client_min_messages = warning;

drop schema if exists pgsse cascade;
