//! The MySQL/MariaDB backend's suite: its tests are in `tests/`.
