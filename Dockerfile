FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Pango, HarfBuzz subsetting and DejaVu fonts: WeasyPrint prints the invoice PDFs (PDF/A embeds the fonts).
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir -e . \
    && DEBUG=0 SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" ALLOWED_HOSTS=build \
       DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://build:6379/0 \
       python manage.py collectstatic --noinput
# /app/media and /app/staticfiles exist, owned by app, so that the named volumes of docker-compose.yml mounted
# there are writable by it.
RUN useradd --create-home app && mkdir -p /app/media /app/staticfiles && chown -R app /app \
    && mkdir -p /data/cdr && chown app /data/cdr
USER app
EXPOSE 8000
CMD ["gunicorn", "alphalink.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
