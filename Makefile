# The README's two commands, and the extra checks CI runs.  Each target does
# its own set-up: Debian packages, meson configure, build.
#
#   make demo            open dermaroll with the virtual roller
#   make check           run the whole test suite
#   make check-sanitize  the suite again under ASan and UBSan (but the ble
#                        suite, whose VM runs no code of ours yet)
#   make check-gcc       build with gcc, warnings as errors
#   make check-valgrind  the unit suite of that gcc build under valgrind
#   make fuzz            a longer fuzz campaign (scripts/fuzz-campaign)

BUILD ?= build
MESON_TEST = meson test --print-errorlogs --num-processes 2

.PHONY: deps build demo check check-sanitize check-valgrind check-gcc fuzz clean

deps:
	@./scripts/install-deps

# clang, so that the libFuzzer targets build and the fuzz suite runs.
build: deps
	@test -f $(BUILD)/build.ninja || CC=clang meson setup $(BUILD)
	@meson compile -C $(BUILD)

demo: build
	@$(BUILD)/tui/dermaroll --simulate

check: build
	$(MESON_TEST) -C $(BUILD)

check-sanitize: deps
	@test -f build-sanitize/build.ninja || \
		CC=clang meson setup build-sanitize --werror -Db_sanitize=address,undefined -Dfuzzing=disabled
	@meson compile -C build-sanitize
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		$(MESON_TEST) -C build-sanitize --no-suite ble

check-gcc: deps
	@test -f build-gcc/build.ninja || CC=gcc meson setup build-gcc --werror
	@meson compile -C build-gcc

# valgrind 3.19 cannot read clang 14's DWARF 5, so this runs the gcc build.
check-valgrind: check-gcc
	$(MESON_TEST) -C build-gcc --setup valgrind --suite unit

fuzz: deps
	./scripts/fuzz-campaign

clean:
	rm -rf $(BUILD) build-sanitize build-gcc
