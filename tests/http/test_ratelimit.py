"""nginx's limit on POST /login, as the template ships it (10 a minute, burst 5).

The site's own nginx runs with the limit raised (see conftest.py); this test starts a
second nginx from the UNMODIFIED template in front of the same jobscope."""

import requests

from jshelpers import show


def test_login_rate_limit(js, start_nginx):
    ngx = start_nginx(unmodified=True)
    with open(ngx.conf) as f:
        conf = f.read()
    assert "rate=10r/m" in conf and "burst=5 nodelay" in conf
    statuses = []
    for _ in range(9):
        r = requests.post(ngx.url + "/login", data={"username": "alice", "password": "wrong"},
                          allow_redirects=False, timeout=10)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert "X-Request-Id" not in r.headers, "429 must come from nginx%s" % show(r)
    # one at the rate plus a burst of 5 pass (403: no CSRF token), then nginx refuses
    assert statuses[:6] == [403] * 6, statuses
    assert statuses[6:] == [429] * 3, statuses
    # GET /login is not counted, and the site's own nginx has its own zone
    r = requests.get(ngx.url + "/login", timeout=10)
    assert r.status_code == 200, show(r)
    r = js.post("/login", data={"username": "alice", "password": "wrong"})
    assert r.status_code == 403, show(r)
