-- roles.sql: the read-only role for BI tools, ecqm_bi_reader (PostgreSQL only).
-- It may read the marts (the mart_* views of the warehouse's schema) and nothing else:
-- no table, no sequence, no other view, no write, no new object. Idempotent: run it
-- after every deployment with `ecqm warehouse grant-bi`, as the role that runs the
-- migrations (it owns the views, so it may grant them). Creating the role needs
-- CREATEROLE; where a DBA has made it already, the owner runs the rest unchanged.
--
-- A view reads its tables with its owner's rights, so SELECT on a mart is all a reader
-- needs; it is never granted a table. The marts are security_barrier views (see
-- ecqm/warehouse/marts.py): a function in a reader's filter never sees a row the view
-- leaves out. A migration drops and recreates the marts; create_marts grants them to
-- this role again whenever it exists.
--
-- People and BI tools log in as roles of their own that are members of this one, made
-- by the operator (never here: no password lives in the repository), e.g.
--     create role bi_superset login password '…' in role ecqm_bi_reader;

do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'ecqm_bi_reader') then
        create role ecqm_bi_reader nologin;
        comment on role ecqm_bi_reader is 'ecqm: reads the BI marts (mart_* views), nothing else';
    end if;
end
$$;

-- Take back whatever was granted before, then grant exactly what is needed. Everything
-- is in the current schema (the one the migrations use), hence format().
do $$
declare
    warehouse text := current_schema();
    mart record;
begin
    execute format('revoke all on all tables in schema %I from ecqm_bi_reader', warehouse);
    execute format('revoke all on all sequences in schema %I from ecqm_bi_reader', warehouse);
    execute format('revoke all on all functions in schema %I from ecqm_bi_reader', warehouse);
    execute format('revoke all on schema %I from ecqm_bi_reader', warehouse);
    execute format('revoke create on database %I from ecqm_bi_reader', current_database());
    -- Objects this role creates later (new tables of the next migration) give the
    -- reader nothing, even where a default grant to it was once made.
    execute format(
        'alter default privileges in schema %I revoke all on tables from ecqm_bi_reader',
        warehouse
    );
    execute format(
        'alter default privileges in schema %I revoke all on sequences from ecqm_bi_reader',
        warehouse
    );
    execute format('grant connect on database %I to ecqm_bi_reader', current_database());
    execute format('grant usage on schema %I to ecqm_bi_reader', warehouse);
    for mart in
        select c.relname
        from pg_catalog.pg_class as c
        where
            c.relnamespace = warehouse::regnamespace
            and c.relkind in ('v', 'm')
            and c.relname like 'mart\_%'
    loop
        execute format('grant select on %I.%I to ecqm_bi_reader', warehouse, mart.relname);
    end loop;
end
$$;
