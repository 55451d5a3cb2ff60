FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts_portal ./contracts_portal
COPY contracts ./contracts
COPY billing ./billing
RUN pip install --no-cache-dir .
COPY . .
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_SETTINGS_MODULE=contracts_portal.settings.production \
    python manage.py collectstatic --noinput

RUN useradd --create-home portal && chown -R portal /app
USER portal
EXPOSE 8000
CMD ["gunicorn", "contracts_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
