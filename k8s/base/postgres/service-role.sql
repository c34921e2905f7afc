-- One service's PostgreSQL login role, owning its own database and nothing else. The one definition
-- used by `./dispatch up` (tools/stack/postgres-roles.ts), docker-compose's postgres-init and the
-- Kubernetes Job dispatch-postgres-roles (k8s/base/postgres-roles-job.yaml).
--
-- Run it as a superuser, connected to the service's database (which must exist), with two session
-- settings: dispatch.role (the role's name) and dispatch.password (its password). With psql:
--   psql -v ON_ERROR_STOP=1 -d order_db -v role=order_service -v password="$PASSWORD" <<'SQL'
--   SET dispatch.role = :'role';
--   SET dispatch.password = :'password';
--   \i service-role.sql
--   SQL
-- Idempotent: every run creates what is missing and sets attributes, password, ownership and
-- privileges back to what is written here (so it is also how a password is rotated).
SET lock_timeout = '30s';

DO $service_role$
DECLARE
  role_name text := current_setting('dispatch.role', true);
  role_password text := current_setting('dispatch.password', true);
  db text := current_database();
  stmt text;
BEGIN
  IF coalesce(role_name, '') !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'dispatch.role must be a lower-case SQL identifier, got "%"', role_name;
  END IF;
  IF coalesce(role_password, '') = '' THEN
    RAISE EXCEPTION 'dispatch.password is empty: the role % needs a password', role_name;
  END IF;
  IF role_name = current_user THEN
    RAISE EXCEPTION 'refusing to turn the role running this script (%) into a service role', role_name;
  END IF;
  IF db IN ('postgres', 'template0', 'template1') THEN
    RAISE EXCEPTION 'connect to the service''s own database, not %', db;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I', role_name);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created by a concurrent run
    END;
  END IF;
  -- A login with no power beyond what it owns; reset on every run in case someone widened it.
  EXECUTE format(
    'ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L',
    role_name, role_password);

  EXECUTE format('ALTER DATABASE %I OWNER TO %I', db, role_name);
  -- Only the owner (and superusers) may connect: PUBLIC's default CONNECT and TEMPORARY go, and so
  -- does any grant to another (non-superuser) role.
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', db);
  FOR stmt IN
    SELECT DISTINCT format('REVOKE ALL ON DATABASE %I FROM %I', db, r.rolname)
    FROM pg_database d, aclexplode(d.datacl) a
    JOIN pg_roles r ON r.oid = a.grantee
    WHERE d.datname = db AND r.rolname <> role_name AND NOT r.rolsuper
  LOOP
    EXECUTE stmt;
  END LOOP;
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', db, role_name);
  -- Before PostgreSQL 15 everybody may create objects in schema public.
  IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public') THEN
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  END IF;

  -- What earlier migrations run as a superuser created: the role must own it to keep migrating it.
  -- Indexes, TOAST tables, array types and serial/identity sequences follow their owners; objects of
  -- extensions stay the extension's.
  FOR stmt IN
    SELECT format('ALTER SCHEMA %I OWNER TO %I', n.nspname, role_name)
    FROM pg_namespace n
    WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
      AND n.nspowner NOT IN (to_regrole(role_name), to_regrole('pg_database_owner'))
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('ALTER %s %s OWNER TO %I',
                  CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                 WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                                 ELSE 'TABLE' END,
                  c.oid::regclass, role_name)
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
      AND c.relowner <> to_regrole(role_name)
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                        AND (e.deptype = 'e' OR (c.relkind = 'S' AND e.deptype IN ('a', 'i'))))
    UNION ALL
    SELECT format('ALTER %s %s OWNER TO %I',
                  CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, t.oid::regtype, role_name)
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE (t.typtype IN ('e', 'd', 'r')
           OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
      AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
      AND t.typowner <> to_regrole(role_name)
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
    UNION ALL
    SELECT format('ALTER %s %s OWNER TO %I',
                  CASE p.prokind WHEN 'a' THEN 'AGGREGATE' ELSE 'ROUTINE' END, p.oid::regprocedure, role_name)
    FROM pg_proc p
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
      AND p.proowner <> to_regrole(role_name)
      AND NOT EXISTS (SELECT 1 FROM pg_depend e
                      WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
  LOOP
    EXECUTE stmt;
  END LOOP;
END
$service_role$;

RESET lock_timeout;
