-- Creates the databases of the Truss stack: Truss's own and one per Ory
-- server. The postgres image runs this once, as POSTGRES_USER, when the data
-- volume is empty (a later change here does not touch an existing volume).
-- Each statement is idempotent: POSTGRES_DB (truss) already exists when this
-- runs, and a database that exists is skipped instead of failing the init.
-- deploy_test.go checks that every database a DSN in docker-compose.yml names
-- is created here.
SELECT 'CREATE DATABASE truss' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'truss')\gexec
SELECT 'CREATE DATABASE kratos' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'kratos')\gexec
SELECT 'CREATE DATABASE keto' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'keto')\gexec
SELECT 'CREATE DATABASE hydra' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'hydra')\gexec
