//! Test data shared by the attestation modules' tests.

/// Standard base64, decoded.
pub(crate) fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// The corpus's Sigstore bundle: a real Rekor entry of the public-good log
/// and a real Fulcio certificate.
pub(crate) fn corpus_bundle() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/corpus/attestation/slsa-v1-sigstore-bundle-bcr-module-bazel.intoto.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}
