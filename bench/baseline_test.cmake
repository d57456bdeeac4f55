# ctest script for quanta-bench --baseline: a --json file reads back as a
# baseline, a baseline the run beats passes, one it misses by more than the
# tolerance fails with exit status 3, rows on one side only are listed without
# failing, and a file that is not JSON is an error (status 1).
# cmake -DBENCH=<quanta-bench> -DDIR=<scratch dir> -P baseline_test.cmake
set(row "raw switch (one call site)")
set(peer "Boost.Context fcontext")
file(MAKE_DIRECTORY ${DIR})

function(bench expect_rc out_var)
  execute_process(COMMAND ${BENCH} --quick --filter "${row}" ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL "${expect_rc}")
    message(FATAL_ERROR "quanta-bench ${ARGN}: exit ${rc}, expected ${expect_rc}\n${out}\n${err}")
  endif()
  set(${out_var} "${out}${err}" PARENT_SCOPE)
endfunction()

function(expect_in text part)
  string(FIND "${text}" "${part}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "expected \"${part}\" in:\n${text}")
  endif()
endfunction()

# A file in write_json's shape with the given rows.
function(baseline file rows)
  file(WRITE ${file} "{\n  \"machine\": {\"cpu_model\": \"crafted\", \"logical_cpus\": 1},\n"
       "  \"quick\": true,\n  \"unit\": \"ns/op\",\n  \"rows\": [${rows}\n  ],\n  \"notes\": []\n}\n")
endfunction()
function(row out benchmark impl ratio)
  set(${out} "\n    {\"benchmark\": \"${benchmark}\",\n     \"quanta\": {\"impl\": \"quanta_ctx_switch\", \"median_ns\": 1},\n     \"peer\": {\"impl\": \"${impl}\", \"median_ns\": 1},\n     \"ratio\": ${ratio}, \"speedup\": null}" PARENT_SCOPE)
endfunction()

# 1. --json, then that file as the baseline (no tolerance to speak of: the
#    timings of two --quick runs differ).
bench(0 out --json ${DIR}/now.json)
bench(0 out --baseline ${DIR}/now.json --tolerance 100000)
expect_in("${out}" "${row} / ${peer}")
expect_in("${out}" "no row is more than 100000 % worse")

# 2. A baseline this run beats, plus rows this run does not have.
row(r1 "${row}" "${peer}" 1e6)
row(r2 "gone benchmark" "some peer" 1.5)
row(r3 "unmeasured benchmark" "other peer" null)
baseline(${DIR}/pass.json "${r1},${r2},${r3}")
bench(0 out --baseline ${DIR}/pass.json)
expect_in("${out}" "gone benchmark / some peer: not measured in this run")
expect_in("${out}" "no row is more than 5 % worse")

# 3. A baseline this run misses by far more than the tolerance.
row(r1 "${row}" "${peer}" 1e-6)
baseline(${DIR}/fail.json "${r1},${r2}")
bench(3 out --baseline ${DIR}/fail.json --tolerance 5)
expect_in("${out}" "WORSE")
expect_in("${out}" "1 row(s) more than 5 % worse")

# 4. Not JSON, and not a file.
file(WRITE ${DIR}/bad.json "{\"rows\": [1, }")
bench(1 out --baseline ${DIR}/bad.json)
expect_in("${out}" "cannot read baseline")
bench(1 out --baseline ${DIR}/missing.json)
expect_in("${out}" "cannot open baseline")
bench(2 out --baseline ${DIR}/pass.json --tolerance -1)
expect_in("${out}" "--tolerance '-1' is invalid")
