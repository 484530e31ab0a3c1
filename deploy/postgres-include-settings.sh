#!/bin/sh
# docker-compose's postgres, at its first start (/docker-entrypoint-initdb.d): include AlphaLink's settings
# (deploy/postgresql.conf, mounted as /etc/postgresql/alphalink.conf); the server restarts after this script.
set -e
echo "include_if_exists = '/etc/postgresql/alphalink.conf'" >> "$PGDATA/postgresql.conf"
