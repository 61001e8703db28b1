"""Export of feature maps and manifests, all or nothing (no Qt)."""
