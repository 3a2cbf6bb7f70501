# ducache — built with PGXS: make && make install && make installcheck
EXTENSION = ducache
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = ducache
OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp) $(wildcard src/pg/*.cpp)))

# The install script is assembled from src/sql/NN_*.sql, one file per feature, in order.
# The upgrade from 0.1.0 is assembled too: upgrade/0.1.0--0.2.0.prelude.sql (drops what changed
# its signature or result columns), then every part but the table and the indexes (00, 10):
# those parts are written to run again over 0.1.0's objects (CREATE OR REPLACE), so the upgraded
# database ends with exactly the objects of a fresh install. When 0.3.0 starts, freeze the
# built 0.1.0--0.2.0 script into upgrade/ and start a new prelude.
INSTALL_PARTS = $(sort $(wildcard src/sql/*.sql))
UPGRADE_PARTS = upgrade/0.1.0--0.2.0.prelude.sql $(filter-out src/sql/00_% src/sql/10_%,$(INSTALL_PARTS))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql $(EXTENSION)--0.1.0--0.2.0.sql
# upgrade/ducache--0.1.0.sql: the 0.1.0 install script as released (CREATE EXTENSION ... VERSION '0.1.0').
DATA = $(wildcard upgrade/$(EXTENSION)--*.sql)
DOCS = README.md

# pg_regress tests: sql/NAME.sql -> expected/NAME.out, run in the order test/schedule declares
# (fixtures first; see its head for how to add a test). REGRESS holds the --schedule switch, so
# `make installcheck REGRESS="00_setup 24_merge"` still runs a plain list instead.
REGRESS = --schedule=$(srcdir)/test/schedule
CONTRIB_TESTDB = ducache_regression
# isolation tests: specs/NAME.spec -> expected/NAME.out
ISOLATION = $(basename $(notdir $(sort $(wildcard specs/*.spec))))

PG_CPPFLAGS = -I$(srcdir)/src
PG_CXXFLAGS = -std=c++17 -fvisibility=hidden -Wall -Wextra -Wno-register -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK = -lstdc++

# The test command (scripts/test.sh, via lib.sh's build_and_install) builds with
# DUCACHE_WERROR=1, so a new warning fails the tests. A plain `make` does not: distributions
# build with other compilers and versions, whose new warnings must not break an install.
ifeq ($(DUCACHE_WERROR),1)
PG_CXXFLAGS += -Werror
endif

# Test-only SQL entry points that throw on purpose (make DUCACHE_TEST_HOOKS=1).
ifeq ($(DUCACHE_TEST_HOOKS),1)
PG_CPPFLAGS += -DDUCACHE_TEST_HOOKS
endif

# Debian's PGXS would also compile every .cpp to LLVM bitcode with clang and without the C++
# flags above. JIT-inlining ducache's C++ buys nothing (the work is in our loops, not in
# expressions the JIT compiles), so bitcode is turned off on purpose.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) $(EXTENSION).control
	cat $(INSTALL_PARTS) > $@

$(EXTENSION)--0.1.0--0.2.0.sql: $(UPGRADE_PARTS)
	cat $(UPGRADE_PARTS) > $@

# Objects depend on every header: simple and always right for a project this size.
$(OBJS): $(wildcard src/core/*.hpp) $(wildcard src/pg/*.hpp)
