# SPDX-License-Identifier: Apache-2.0
# A package, so that pytest imports this suite's conftest as dpdk.conftest and
# tests/integration's conftest stays importable as plain `conftest`.
