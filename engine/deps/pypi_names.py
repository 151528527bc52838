"""Which PyPI package an import name comes from, where the two names differ.

An import not listed here is taken to be its own package name (`import requests` needs
`requests`), as Windmill does. The table covers the common cases where they differ; a
script can always say what it needs with a pin (`import foo  # pin: foo-bar==1.2`).
"""

from __future__ import annotations

IMPORT_TO_PACKAGE: dict[str, str] = {
    "yaml": "PyYAML",
    "PIL": "Pillow",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "jose": "python-jose",
    "jwt": "PyJWT",
    "magic": "python-magic",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "slugify": "python-slugify",
    "multipart": "python-multipart",
    "telegram": "python-telegram-bot",
    "gitlab": "python-gitlab",
    "ldap": "python-ldap",
    "psycopg2": "psycopg2-binary",
    "MySQLdb": "mysqlclient",
    "pymysql": "PyMySQL",
    "Crypto": "pycryptodome",
    "OpenSSL": "pyOpenSSL",
    "nacl": "PyNaCl",
    "attr": "attrs",
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.cloud.pubsub": "google-cloud-pubsub",
    "google.protobuf": "protobuf",
    "googleapiclient": "google-api-python-client",
    "google_auth_oauthlib": "google-auth-oauthlib",
    "googlemaps": "googlemaps",
    "azure.storage.blob": "azure-storage-blob",
    "azure.identity": "azure-identity",
    "snowflake.connector": "snowflake-connector-python",
    "kafka": "kafka-python",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "fitz": "PyMuPDF",
    "win32api": "pywin32",
    "Levenshtein": "python-Levenshtein",
    "websocket": "websocket-client",
    "socketio": "python-socketio",
    "engineio": "python-engineio",
    "discord": "discord.py",
    "github": "PyGithub",
    "faiss": "faiss-cpu",
    "tree_sitter": "tree-sitter",
    "lxml": "lxml",
    "markdown": "Markdown",
    "mpl_toolkits": "matplotlib",
    "pkg_resources": "setuptools",
    "grpc": "grpcio",
    "pyarrow": "pyarrow",
    "duckdb": "duckdb",
    "sentence_transformers": "sentence-transformers",
    "umap": "umap-learn",
    "Bio": "biopython",
    "neo4j": "neo4j",
    "ruamel": "ruamel.yaml",
    "tabula": "tabula-py",
    "xlrd": "xlrd",
    "jenkins": "python-jenkins",
    "consul": "python-consul",
    "pydub": "pydub",
}
"""Import name (or dotted prefix) → PyPI distribution, where they differ."""


def package_for(module: str) -> str:
    """The PyPI package that provides the imported `module` (a dotted name)."""
    parts = module.split(".")
    for size in range(len(parts), 0, -1):
        known = IMPORT_TO_PACKAGE.get(".".join(parts[:size]))
        if known is not None:
            return known
    return parts[0]
