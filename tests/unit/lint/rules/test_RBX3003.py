"""RBX3003: TLS verification or signature checks turned off."""

from tests.unit.lint.helpers import lines

RULE = "RBX3003"


def test_insecure_commands() -> None:
    text = (
        "FROM debian:12\n"
        "RUN curl -kfsSLO https://x/t.tgz\n"
        "RUN pip install --trusted-host pypi.example x==1\n"
        "RUN apt-get install -y --allow-unauthenticated x\n"
        "RUN git config --global http.sslVerify false\n"
        "ENV PYTHONHTTPSVERIFY=0\n"
        "RUN apk add --allow-untrusted x.apk\n"
        "RUN wget --no-check-certificate https://x\n"
    )
    assert lines(text, RULE) == [2, 3, 4, 5, 6, 7, 8]


def test_passing() -> None:
    ok = (
        "FROM debian:12\n"
        "RUN curl -fsSLO https://x/t.tgz\n"
        "RUN wget -q https://x\n"
        "ENV PYTHONHTTPSVERIFY=1\n"
        "RUN echo --keep-going\n"
    )
    assert lines(ok, RULE) == []
