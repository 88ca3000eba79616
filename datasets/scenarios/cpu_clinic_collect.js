// Runs a scenario under Clinic.js Flame's collector (0x + node --prof, then its ticks) and prints the
// data folder. Usage: node cpu_clinic_collect.js CLINIC_FLAME_DIR DEST_DIR SCENARIO.js [args...]
// CLINIC_FLAME_DIR is an installed @clinic/flame (datasets/build_profiles.py puts one in .peers/profile/).
'use strict';
const path = require('path');
const [flameDir, dest, ...argv] = process.argv.slice(2);
const ClinicFlame = require(path.resolve(flameDir));
const flame = new ClinicFlame({ dest: path.resolve(dest), name: 'run' });
flame.collect([process.execPath, ...argv], (err, dir) => {
  if (err) { console.error(err); process.exit(1); }
  console.log(dir);
});
