//! A corpus of secret shapes, each recorded through `#[trace_method]` as plain text, as JSON
//! (`Serialize`) or as `Debug` text: no exported attribute may hold a secret (every secret in the
//! corpus contains `SECRET`), and the non-secret beside it (containing `KEEP`) must stay.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use instrument::trace_method;
use serde::Serialize;
use support::{attr, spans, start};

#[trace_method]
fn as_text(value: &str) -> usize {
    value.len()
}

#[trace_method]
fn as_json<T: Serialize>(value: &T) -> usize {
    std::mem::size_of_val(value)
}

#[trace_method]
fn as_debug<T: Debug>(value: &T) -> usize {
    std::mem::size_of_val(value)
}

/// What one case recorded.
fn recorded(run: impl FnOnce()) -> String {
    run();
    let spans = spans();
    let span = spans.last().expect("a span");
    attr(span, "parameter.value").expect("the value is recorded")
}

const TEXT: &[&str] = &[
    "postgres://user_KEEP:SECRET1@db.internal:5432/app",
    "postgres://user_KEEP:SECRET2@db.internal/app",
    "redis://:SECRET3@cache_KEEP:6379/0",
    "https://KEEP:p%40ss%2FSECRET4@host/path",
    "mysql://root_KEEP:SECRET5@localhost:3306/db?ssl=true",
    "amqp://guest_KEEP:SECRET6@rabbit/vhost",
    "connect to postgresql://app_KEEP:SECRET7@10.0.0.5/main now",
    "https://host_KEEP/v1?api_key=SECRET8&limit=5",
    "https://host/v1?limit=KEEP&token=SECRET9",
    "https://host/v1?access_token=SECRET10#frag_KEEP",
    "/callback?code=KEEP&client_secret=SECRET11&state=x",
    "user=KEEP Authorization: Bearer SECRET12",
    "Basic SECRET13dXNlcjpwYXNz== for KEEP",
    "bearer SECRET14, next=KEEP",
    "host=KEEP port=5432 password=SECRET15 dbname=app",
    "Server=KEEP;Database=app;User Id=sa;Password=SECRET16;",
    "password: SECRET17 (user KEEP)",
    r#"{"user":"KEEP","password":"SECRET18"}"#,
    "Set-Cookie: session=SECRET19; Path=/KEEP",
    "x-api-key: SECRET20 model=KEEP",
    "refresh_token=SECRET21 max_tokens=KEEP",
];

#[derive(Serialize)]
struct Login {
    user: &'static str,
    token: &'static str,
}

#[derive(Serialize)]
struct Auth {
    token: &'static str,
    scheme: &'static str,
}

#[derive(Serialize)]
struct Settings {
    model: &'static str,
    password: &'static str,
    auth: Auth,
}

#[derive(Serialize)]
struct Connection {
    db_url: &'static str,
    endpoint: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
enum Credential {
    Password {
        user: &'static str,
        password: &'static str,
    },
}

#[derive(Serialize)]
struct ApiKey(&'static str);

#[derive(Serialize)]
struct Client {
    name: &'static str,
    key: ApiKey,
}

#[derive(Serialize)]
struct Pem {
    private_key: &'static str,
    kid: &'static str,
}

fn json_cases() -> Vec<String> {
    let mut cases = Vec::new();
    let mut case = |run: &dyn Fn()| cases.push(recorded(run));
    case(&|| {
        as_json(&Login {
            user: "KEEP",
            token: "SECRET30",
        });
    });
    case(&|| {
        as_json(&Settings {
            model: "KEEP",
            password: "SECRET31",
            auth: Auth {
                token: "SECRET32",
                scheme: "bearer",
            },
        });
    });
    case(&|| {
        as_json(&vec![
            Login {
                user: "KEEP",
                token: "SECRET33",
            },
            Login {
                user: "KEEP",
                token: "SECRET34",
            },
        ]);
    });
    case(&|| {
        as_json(&HashMap::from([("api_key", "SECRET35"), ("model", "KEEP")]));
    });
    case(&|| {
        as_json(&BTreeMap::from([
            ("Authorization", "Bearer SECRET36"),
            ("accept", "KEEP"),
        ]));
    });
    case(&|| {
        as_json(&Connection {
            db_url: "postgres://app_KEEP:SECRET37@db:5432/main",
            endpoint: "https://api/v1?token=SECRET38&q=KEEP",
            name: "KEEP",
        });
    });
    case(&|| {
        as_json(&vec![
            "https://u_KEEP:SECRET39@a",
            "https://b?apikey=SECRET40",
        ]);
    });
    case(&|| {
        // A secret-named variant hides its whole value; the field beside it stays.
        as_json(&(
            Credential::Password {
                user: "SECRET41",
                password: "SECRET41B",
            },
            "KEEP",
        ));
    });
    case(&|| {
        as_json(&Some(Login {
            user: "KEEP",
            token: "SECRET42",
        }));
    });
    case(&|| {
        as_json(&serde_json::json!({
            "user": "KEEP",
            "grant": {"refresh_token": "SECRET43", "scope": ["a", {"accessToken": "SECRET44"}]}
        }));
    });
    case(&|| {
        as_json(&vec![
            ("authorization", "Bearer SECRET45"),
            ("accept", "KEEP"),
        ]);
    });
    case(&|| {
        as_json(&Client {
            name: "KEEP",
            key: ApiKey("SECRET46"),
        });
    });
    case(&|| {
        as_json(&Pem {
            private_key: "-----BEGIN PRIVATE KEY-----\nSECRET47\n-----END PRIVATE KEY-----",
            kid: "KEEP",
        });
    });
    cases
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug only
struct DebugOnly {
    user: &'static str,
    password: &'static str,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Inner {
    token: &'static str,
    region: &'static str,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Outer {
    inner: Inner,
    name: &'static str,
}

#[derive(Debug)]
#[allow(dead_code)]
enum DebugAuth {
    Basic {
        user: &'static str,
        password: &'static str,
    },
    ApiKey(&'static str),
    User(&'static str),
}

#[derive(Debug)]
#[allow(dead_code)]
struct Token(&'static str);

#[derive(Debug)]
#[allow(dead_code)]
struct Cred {
    secret: &'static str,
    label: &'static str,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Nested {
    password: Inner,
    name: &'static str,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Optional {
    token: Option<&'static str>,
    header: Option<&'static str>,
    url: &'static str,
    keep: &'static str,
}

fn debug_cases() -> Vec<String> {
    let mut cases = Vec::new();
    let mut case = |run: &dyn Fn()| cases.push(recorded(run));
    case(&|| {
        as_debug(&DebugOnly {
            user: "KEEP",
            password: "SECRET60",
        });
    });
    case(&|| {
        as_debug(&Outer {
            inner: Inner {
                token: "SECRET, \"61\"",
                region: "KEEP",
            },
            name: "KEEP",
        });
    });
    case(&|| {
        as_debug(&DebugAuth::Basic {
            user: "KEEP",
            password: "SECRET62",
        });
    });
    case(&|| {
        as_debug(&(DebugAuth::ApiKey("SECRET63"), DebugAuth::User("KEEP")));
    });
    case(&|| {
        as_debug(&(Token("SECRET64"), "KEEP"));
    });
    case(&|| {
        as_debug(&vec![
            Cred {
                secret: "SECRET65",
                label: "KEEP",
            },
            Cred {
                secret: "SECRET66",
                label: "KEEP",
            },
        ]);
    });
    case(&|| {
        as_debug(&BTreeMap::from([
            ("api_key", "SECRET67"),
            ("model", "KEEP"),
        ]));
    });
    case(&|| {
        as_debug(&Nested {
            password: Inner {
                token: "SECRET68",
                region: "SECRET69",
            },
            name: "KEEP",
        });
    });
    case(&|| {
        as_debug(&Optional {
            token: Some("SECRET70"),
            header: Some("Bearer SECRET71"),
            url: "postgres://KEEP:SECRET72@db/app",
            keep: "KEEP",
        });
    });
    cases
}

#[test]
fn no_secret_of_the_corpus_reaches_an_attribute_and_neighbours_stay() {
    let _t = start();
    let mut recorded_values: Vec<String> = TEXT
        .iter()
        .map(|text| {
            recorded(|| {
                as_text(text);
            })
        })
        .collect();
    recorded_values.extend(json_cases());
    recorded_values.extend(debug_cases());
    assert!(
        recorded_values.len() >= 40,
        "{} shapes",
        recorded_values.len()
    );
    let leaks: Vec<&String> = recorded_values
        .iter()
        .filter(|text| text.contains("SECRET"))
        .collect();
    assert!(leaks.is_empty(), "leaked: {leaks:#?}");
    let lost: Vec<&String> = recorded_values
        .iter()
        .filter(|text| !text.contains("KEEP"))
        .collect();
    assert!(lost.is_empty(), "neighbours lost: {lost:#?}");
    assert!(
        recorded_values
            .iter()
            .all(|text| text.contains(instrument::capture::REDACTED)),
        "every shape says where it hid something: {recorded_values:#?}"
    );
}

#[test]
fn text_without_secrets_is_recorded_as_it_is() {
    let _t = start();
    for text in [
        "https://user@example.com:8080/path?limit=5&max_tokens=512",
        "max_tokens: 512, tokenizer=cl100k",
        "std::collections::HashMap",
        "time 12:30:45, ratio=3/4",
    ] {
        assert_eq!(
            recorded(|| {
                as_text(text);
            }),
            text
        );
    }
}

#[test]
fn redactions_are_counted() {
    let _t = start();
    let before = instrument::capture::redactions();
    as_text("postgres://app:SECRET@db/main?password=SECRET");
    assert_eq!(instrument::capture::redactions() - before, 2);
}

/// A secret-named variant whose value is a struct, a tuple, a newtype of a struct.
#[derive(Serialize, Debug)]
#[allow(dead_code)]
enum Secretive {
    Token { value: &'static str },
    Password(&'static str, &'static str),
    ApiKey(Pem),
    Plain { value: &'static str },
}

impl std::fmt::Debug for Pem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pem")
            .field("private_key", &self.private_key)
            .field("kid", &self.kid)
            .finish()
    }
}

#[derive(Serialize, Debug)]
struct Holder {
    name: &'static str,
    auth: Secretive,
}

#[test]
fn everything_under_a_secret_name_is_hidden_whatever_its_shape() {
    let _t = start();
    let pem = || Pem {
        private_key: "SECRET80",
        kid: "SECRET81",
    };
    let json = |run: &dyn Fn()| recorded(run);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "struct variant",
            json(&|| {
                as_json(&Holder {
                    name: "KEEP",
                    auth: Secretive::Token { value: "SECRET82" },
                });
            }),
            r#"{"name":"KEEP","auth":{"Token":"[redacted]"}}"#,
        ),
        (
            "tuple variant",
            json(&|| {
                as_json(&Secretive::Password("SECRET83", "SECRET84"));
            }),
            r#"{"Password":"[redacted]"}"#,
        ),
        (
            "newtype variant of a struct",
            json(&|| {
                as_json(&Secretive::ApiKey(pem()));
            }),
            r#"{"ApiKey":"[redacted]"}"#,
        ),
        (
            "variants in an array, the plain one kept",
            json(&|| {
                as_json(&vec![
                    Secretive::Token { value: "SECRET85" },
                    Secretive::Plain { value: "KEEP" },
                ]);
            }),
            r#"[{"Token":"[redacted]"},{"Plain":{"value":"KEEP"}}]"#,
        ),
        (
            "map key over a map",
            json(&|| {
                as_json(&serde_json::json!({
                    "password": {"old": "SECRET86", "new": "SECRET87"},
                    "user": "KEEP",
                }));
            }),
            r#"{"password":"[redacted]","user":"KEEP"}"#,
        ),
        (
            "map key over a sequence",
            json(&|| {
                as_json(&BTreeMap::from([
                    ("api_key", vec!["SECRET88", "SECRET89"]),
                    ("models", vec!["KEEP"]),
                ]));
            }),
            r#"{"api_key":"[redacted]","models":["KEEP"]}"#,
        ),
        (
            "nested deep, in arrays",
            json(&|| {
                as_json(&serde_json::json!({
                    "a": [{"b": {"client_secret": [{"x": "SECRET90"}], "keep": "KEEP"}}],
                }));
            }),
            r#"{"a":[{"b":{"client_secret":"[redacted]","keep":"KEEP"}}]}"#,
        ),
    ];
    for (shape, got, want) in &cases {
        assert_eq!(got, want, "{shape}");
    }
    let debug = [
        recorded(|| {
            as_debug(&Holder {
                name: "KEEP",
                auth: Secretive::Token { value: "SECRET91" },
            });
        }),
        recorded(|| {
            as_debug(&vec![
                Secretive::Password("SECRET92", "SECRET93"),
                Secretive::Plain { value: "KEEP" },
            ]);
        }),
        recorded(|| {
            as_debug(&(Secretive::ApiKey(pem()), "KEEP"));
        }),
        recorded(|| {
            as_debug(&BTreeMap::from([
                ("password", BTreeMap::from([("old", "SECRET94")])),
                ("user", BTreeMap::from([("name", "KEEP")])),
            ]));
        }),
        recorded(|| {
            as_debug(&HashMap::from([("api_key", vec!["SECRET95", "SECRET96"])]));
        }),
    ];
    let leaks: Vec<&String> = debug.iter().filter(|t| t.contains("SECRET")).collect();
    assert!(leaks.is_empty(), "Debug leaked: {leaks:#?}");
    assert!(
        debug
            .iter()
            .all(|t| t.contains(instrument::capture::REDACTED)),
        "{debug:#?}"
    );
}
