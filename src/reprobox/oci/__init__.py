"""The daemonless backend: boxes run by an OCI runtime (runc, runsc) directly, no engine.

``Sandbox(image, backend="oci")`` / ``reprobox run --backend oci``. The box is the same as the
engine backend's (one :class:`~reprobox.sandbox.policy.Policy`, translated field by field in
:mod:`reprobox.oci.config`); the image comes from a read-only rootfs cache
(:mod:`reprobox.oci.images`).
"""
