"""Build a Python base image from Debian packages (debootstrap), for machines with no registry."""

from reprobox.base.build import BaseImageResult, BaseSpec, build_base, default_tag

__all__ = ["BaseImageResult", "BaseSpec", "build_base", "default_tag"]
