# ducache — built with PGXS: make && make install && make installcheck
EXTENSION = ducache
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = ducache
OBJS = $(patsubst %.cpp,%.o,$(sort $(wildcard src/core/*.cpp) $(wildcard src/pg/*.cpp)))

# The install script is assembled from src/sql/NN_*.sql, one file per feature, in order.
# The upgrade from 0.1.0, upgrade/ducache--0.1.0--0.2.0.sql, is committed (readable alone) and
# assembled too, by `make upgrade-scripts`: upgrade/0.1.0--0.2.0.prelude.sql (drops what changed
# its signature or result columns), then every install part but the table and the indexes (00,
# 10). Those parts are written to run again over 0.1.0's objects (CREATE OR REPLACE), so the
# upgraded database ends with exactly the objects of a fresh install; test/shell/upgrade_script.sh
# fails when the committed script is not what the parts assemble. When 0.3.0 starts, the
# 0.1.0--0.2.0 script is frozen as it is and a new prelude begins.
INSTALL_PARTS = $(sort $(wildcard src/sql/*.sql))
UPGRADE_PARTS = upgrade/0.1.0--0.2.0.prelude.sql $(filter-out src/sql/00_% src/sql/10_%,$(INSTALL_PARTS))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql
# upgrade/ducache--0.1.0.sql: the 0.1.0 install script as released (CREATE EXTENSION ... VERSION
# '0.1.0'); upgrade/ducache--0.1.0--0.2.0.sql: the step to 0.2.0.
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

.PHONY: upgrade-scripts
upgrade-scripts:
	cat $(UPGRADE_PARTS) > upgrade/$(EXTENSION)--0.1.0--0.2.0.sql

# For test/shell/upgrade_script.sh: the parts of the upgrade, in order.
print-upgrade-parts:
	@echo $(UPGRADE_PARTS)

# Objects depend on every header: simple and always right for a project this size.
$(OBJS): $(wildcard src/core/*.hpp) $(wildcard src/pg/*.hpp)
