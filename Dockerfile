# clearance serve: the decision service (docs/service.md).
#
#   docker build -t clearance .
#   docker run --rm -p 8080:8080 -v "$PWD/policies:/etc/clearance/policies:ro" clearance
#
# Build stage: the toolchain and the sources; the lock file pins every crate.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY grammar grammar
# The benches, examples and tests are not part of the binary, but Cargo
# reads their declarations from Cargo.toml.
COPY benches benches
COPY examples examples
RUN cargo build --release --locked --bin clearance \
 && strip target/release/clearance

# Runtime stage: glibc and CA certificates only, no shell, no package
# manager; distroless's `nonroot` user (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/clearance /usr/local/bin/clearance
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/clearance"]
CMD ["serve", "--policies", "/etc/clearance/policies", "--listen", "0.0.0.0:8080"]
