# The swarmdeck runner template for E2B (docs/e2b.md, "A template with the runner inside").
# build.sh stages swarmdeck-runner and runner.json (its swarmdeck version and SHA3-512 digest)
# beside this file. A sandbox of this template holds the runner at ~/.swarmdeck, so swarmdeck
# links it instead of uploading it, after checking the version and digest against its own.
FROM e2bdev/base

COPY --chown=user:user swarmdeck-runner runner.json /home/user/.swarmdeck/
RUN chmod 0755 /home/user/.swarmdeck/swarmdeck-runner && \
    chmod 0644 /home/user/.swarmdeck/runner.json
