# ducache — built with PGXS: make && make install && make installcheck
EXTENSION = ducache
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = ducache
CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS = $(sort $(wildcard src/pg/*.cpp))
# The core (pure C++, ~37 files sharing the standard library's and its own inline headers) is
# compiled as two translation units, src/core/unity/core_1.cpp and core_2.cpp, each including
# half of its files: the headers are parsed and instantiated twice instead of once a file, which
# was over half of the core's compile CPU (gcc -O2: 59 -> 27 s). The same sources, flags and
# warnings; no two core files define the same name (keep it so: a clash fails the build).
# DUCACHE_UNITY_CORE=0 compiles every core file on its own (e.g. to check each one's includes).
DUCACHE_UNITY_CORE ?= 1
ifeq ($(DUCACHE_UNITY_CORE),1)
CORE_HALF := $(shell echo $$(( ($(words $(CORE_SRCS)) + 1) / 2 )))
CORE_UNITY_1 = $(wordlist 1,$(CORE_HALF),$(CORE_SRCS))
CORE_UNITY_2 = $(wordlist $(shell echo $$(( $(CORE_HALF) + 1 ))),$(words $(CORE_SRCS)),$(CORE_SRCS))
CORE_OBJS = src/core/unity/core_1.o src/core/unity/core_2.o
else
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
endif
OBJS = $(CORE_OBJS) $(PG_SRCS:.cpp=.o)
# Both layouts' core objects, so a switch of DUCACHE_UNITY_CORE leaves none behind.
EXTRA_CLEAN = src/core/unity $(CORE_SRCS:.cpp=.o) .build-switches

# The install script is assembled from src/sql/NN_*.sql, one file per feature, in order.
INSTALL_PARTS = $(sort $(wildcard src/sql/*.sql))
DATA_built = $(EXTENSION)--$(EXTVERSION).sql

# Upgrades. Released versions are frozen: upgrade/ducache--0.1.0.sql, ducache--0.2.0.sql and
# ducache--0.3.0.sql are their install scripts exactly as released (CREATE EXTENSION ... VERSION
# 'X' keeps working), and upgrade/ducache--0.1.0--0.2.0.sql and ducache--0.2.0--0.3.0.sql are
# the steps as released (nothing regenerates them any more: they hold their version's parts,
# not today's). test/shell/upgrade_script.sh checks that none of them changes.
#
# The step being written, upgrade/ducache--0.3.0--0.4.0.sql, is committed (readable alone) and
# assembled by `make upgrade-scripts`: upgrade/0.3.0--0.4.0.prelude.sql (hand-written: drops what
# changes its arguments or result columns, ALTERs released tables; see the prelude), then every
# install part that 0.3.0's objects allow to run again. New parts are picked up by themselves.
#
# Replayable parts hold only CREATE OR REPLACE (functions, aggregates, triggers), COMMENT ON,
# GRANT/REVOKE, ALTER ... DEPENDS ON EXTENSION: running them over the previous version's objects
# ends with a fresh install's objects. ONCE parts create state that cannot be created twice
# (CREATE TABLE, CREATE INDEX): they are NAMED so, NN_*table.sql, NN_*tables.sql or
# NN_*indexes.sql (upgrade_script.sh fails when a part that is not named so creates a table or
# an index). A once part runs in the install script and in the ONE upgrade step of the version
# that adds it, never in a later step:
#   * 0.2.0 -> 0.3.0 (frozen) ran 12_rollup_tables.sql, new in 0.3.0.
#   * 0.3.0 -> 0.4.0 leaves out every once part 0.3.0 has (ONCE_RELEASED); a once part new in
#     0.4.0 runs in it. A change to a released table is a hand-written ALTER TABLE in the
#     prelude, not an edit of its part (the install gets the same change in the part itself).
#   * When 0.4.0 is released: freeze its install script and this step as 0.3.0's were, set
#     ONCE_RELEASED to $(ONCE_PARTS), start a new prelude.
ONCE_PARTS = $(filter src/sql/%table.sql src/sql/%tables.sql src/sql/%indexes.sql,$(INSTALL_PARTS))
ONCE_RELEASED = src/sql/00_table.sql src/sql/10_indexes.sql src/sql/12_rollup_tables.sql
UPGRADE_FROM = 0.3.0
UPGRADE_PRELUDE = upgrade/$(UPGRADE_FROM)--$(EXTVERSION).prelude.sql
UPGRADE_SCRIPT = upgrade/$(EXTENSION)--$(UPGRADE_FROM)--$(EXTVERSION).sql
UPGRADE_PARTS = $(UPGRADE_PRELUDE) $(filter-out $(ONCE_RELEASED),$(INSTALL_PARTS))
# Every upgrade/ducache--*.sql: the frozen install scripts and every step of the chain
# (0.1.0 -> 0.2.0 -> 0.3.0 -> 0.4.0: ALTER EXTENSION ducache UPDATE follows it from any released version).
DATA = $(wildcard upgrade/$(EXTENSION)--*.sql)
DOCS = README.md

# pg_regress tests: sql/NAME.sql -> expected/NAME.out, run in the order test/schedule declares
# (fixtures first; see its head for how to add a test). REGRESS holds the --schedule switch, so
# `make installcheck REGRESS="00_setup 24_merge"` still runs a plain list instead.
REGRESS = --schedule=$(srcdir)/test/schedule
CONTRIB_TESTDB = ducache_regression
# isolation tests: specs/NAME.spec -> expected/NAME.out
ISOLATION = $(basename $(notdir $(sort $(wildcard specs/*.spec))))

# libpq: writes through a coordinator talk to the shards directly (two-phase commit; see
# docs/scale-out-writes.md), as dblink does. Its header only: the library is not linked but
# opened by src/pg/libpq_calls.cpp when a backend first talks to a shard (a backend or a parallel
# worker that never does is spared its load).
PG_CPPFLAGS = -I$(srcdir)/src -I$(shell $(PG_CONFIG) --includedir)
# The version this library belongs to: month rollups are read only when it is the installed one.
PG_CPPFLAGS += -DDUCACHE_LIBRARY_VERSION='"$(EXTVERSION)"'
PG_CXXFLAGS = -std=c++17 -fvisibility=hidden -Wall -Wextra -Wno-register -Wno-unused-parameter \
              -Wno-missing-field-initializers -Wno-sign-compare
SHLIB_LINK = -lstdc++
# The library's dynamic symbols: only its C names (Pg_magic_func, _PG_init, the SQL functions and
# their pg_finfo_*, all made visible in the code). libstdc++'s headers give namespace std default
# visibility, so without the map every std template instance we use (~115) was exported too and
# bound through the dynamic linker at each load (a lookup through every library of the process
# before our own; ~300,000 instructions a backend and a parallel worker: docs/benchmarks.md,
# round 13 of issue 13). src/pg/exports.map makes every C++ name local.
SHLIB_LINK += -Wl,--version-script=$(srcdir)/src/pg/exports.map

# The test command (scripts/test.sh, via lib.sh's build_and_install) builds with
# DUCACHE_WERROR=1, so a new warning fails the tests. A plain `make` does not: distributions
# build with other compilers and versions, whose new warnings must not break an install.
ifeq ($(DUCACHE_WERROR),1)
PG_CXXFLAGS += -Werror
endif

# The -Wno- flags above are for PostgreSQL's headers, which src/core (pure C++) never includes:
# the core is compiled with all of -Wall -Wextra, as the CMake build compiles it. The test
# command's unit tests link these very objects (CMake's DUCACHE_CORE_OBJECTS_DIR), so with
# DUCACHE_WERROR=1 a warning in the core fails the build as it failed the unit tests' build.
src/core/%.o: override CXXFLAGS += -Wsign-compare -Wunused-parameter -Wmissing-field-initializers

# DUCACHE_LINE_TABLES=1 (the test command's build, lib.sh's build_and_install): debug information
# of line tables and functions only (-g1, after PostgreSQL's -g) instead of full DWARF (types and
# locals of every template instance): the build's compile CPU was mostly that. gcc's code is the
# same with any -g level; valgrind's and a backtrace's frames still name function, file and line.
ifeq ($(DUCACHE_LINE_TABLES),1)
PG_CXXFLAGS += -g1
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

# The objects depend on the switches that change their code (git's GIT-CFLAGS idiom): the stamp
# is rewritten only when DUCACHE_TEST_HOOKS differs from the last build's, so `make` after a
# switch rebuilds instead of linking the other build's objects. Only targets that build objects
# look at it (installcheck does not), and -Werror is left out (it changes no code).
BUILD_SWITCHES = test_hooks=$(if $(filter 1,$(DUCACHE_TEST_HOOKS)),1,0)
.build-switches: FORCE
	@echo '$(BUILD_SWITCHES)' | cmp -s - $@ || echo '$(BUILD_SWITCHES)' > $@
.PHONY: FORCE
FORCE:
$(OBJS): .build-switches

$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) $(EXTENSION).control
	cat $(INSTALL_PARTS) > $@

.PHONY: upgrade-scripts print-upgrade-parts print-upgrade-script print-once-parts
upgrade-scripts:
	cat $(UPGRADE_PARTS) > $(UPGRADE_SCRIPT)

# For test/shell/upgrade_script.sh: the step being written, its parts in order, the once parts.
print-upgrade-script:
	@echo $(UPGRADE_SCRIPT)
print-upgrade-parts:
	@echo $(UPGRADE_PARTS)
print-once-parts:
	@echo $(ONCE_PARTS)

$(shlib): src/pg/exports.map

# Objects depend on every header: simple and always right for a project this size.
$(OBJS): $(wildcard src/core/*.hpp) $(wildcard src/pg/*.hpp)

# The core's two unity sources (DUCACHE_UNITY_CORE=1): rewritten only when their list changes.
ifeq ($(DUCACHE_UNITY_CORE),1)
src/core/unity/core_1.o: $(CORE_UNITY_1)
src/core/unity/core_2.o: $(CORE_UNITY_2)
src/core/unity/core_%.cpp: FORCE
	@mkdir -p $(dir $@)
	@printf '#include "%s"\n' $(patsubst src/%,%,$(CORE_UNITY_$*)) > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@
.PHONY: FORCE
FORCE:
endif
