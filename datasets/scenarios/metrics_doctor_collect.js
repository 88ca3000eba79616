'use strict'
// Record one metrics_* scenario under Clinic.js Doctor's programmatic collect, with --trace-gc on.
// usage: node metrics_doctor_collect.js DOCTOR_DIR SCENARIO.js OUT_DIR   (run with cwd = a scratch dir)
// The scenario's stdout (the --trace-gc log) is this process's stdout; nothing else is printed there.
const path = require('path')
const doctorDir = path.resolve(process.argv[2])
const ClinicDoctor = require(path.join(doctorDir, 'node_modules', '@clinic', 'doctor'))
const scenario = path.resolve(process.argv[3])
const out = path.resolve(process.argv[4])
const doctor = new ClinicDoctor({ dest: out, name: 'doctor' })
process.env.WB_OUT = out
process.env.WB_PROM_CLIENT = path.join(doctorDir, 'node_modules', 'prom-client')
doctor.collect([process.execPath, '--trace-gc', scenario], (err, dir) => {
  if (err) { console.error(err); process.exit(1) }
  console.error('doctor recording in', dir)
})
