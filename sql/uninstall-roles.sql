-- Drops the roles that sql/roles.sql makes, after revoking what they
-- were granted in this database (DROP OWNED). A role that owns
-- anything here is refused, and nothing is dropped: reassign it first.
-- A role still granted something in another database cannot be
-- dropped either (PostgreSQL says where): run this there first.
-- pgsse-schema uninstall --roles runs it after sql/uninstall.sql.
set client_min_messages = warning;

do $$
declare
	r text;
	v_what text;
begin
	foreach r in array array['pgsse_web', 'pgsse_stream', 'pgsse_publisher'] loop
		continue when not exists (select from pg_roles where rolname = r);
		select string_agg(pg_describe_object(d.classid, d.objid, d.objsubid), ', ')
			into v_what from pg_shdepend d
			join pg_database b on b.oid = d.dbid
		where d.refclassid = 'pg_authid'::regclass and d.deptype = 'o'
			and d.refobjid = (select oid from pg_roles where rolname = r)
			and b.datname = current_database();
		if v_what is not null then
			raise exception 'pgsse: role % owns %', r, v_what
				using errcode = '2BP01',
				hint = format('Give them another owner (REASSIGN OWNED BY %I TO ...) first.', r);
		end if;
		execute format('drop owned by %I', r);
		execute format('drop role %I', r);
	end loop;
end $$;
