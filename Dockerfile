# One image for the API, the worker and the sandbox; the command picks the process.
FROM python:3.11.7-slim-bookworm
# Production unless told otherwise: the development surfaces off, the development secrets refused.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 APP_ENV=production
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY domain domain
COPY workflows workflows
COPY activities activities
COPY adapters adapters
COPY store store
COPY api api
COPY workers workers
COPY sandbox sandbox
# Bytecode at build time: the workflow sandbox imports the workflow module for every instance it creates.
RUN pip install --no-cache-dir . \
    && python -m compileall -q config domain workflows activities adapters store api workers sandbox \
    && useradd --system --uid 10001 permit
USER permit
CMD ["python", "-m", "api"]
