from monitor.urls import canonical_url


def test_canonical_url_forms():
    assert canonical_url("HTTPS://WWW.Example.org:443/a?b=2&a=1&utm_medium=x&spm=1#frag") == \
        "https://www.example.org/a?a=1&b=2"
    assert canonical_url("http://example.org") == "http://example.org/"
    assert canonical_url("http://example.org:8080/x") == "http://example.org:8080/x"
    assert canonical_url("javascript:alert(1)") is None
    assert canonical_url("") is None
    assert canonical_url("http://[::1") is None
