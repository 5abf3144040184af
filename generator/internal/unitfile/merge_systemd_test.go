package unitfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/portable-generator/portable-generator/internal/boolean"
	"github.com/portable-generator/portable-generator/internal/systemdtest"
)

// The merge against the real thing: each case is a unit with the admin's
// drop-ins that reset, append and override, loaded by systemd 252 and 257
// in test mode. For every probed setting, the values our merge keeps must
// be the values PID 1 loaded, and the values it drops must be missing from
// what PID 1 loaded.

// The unit directories of the cases, highest first: the admin's
// /etc/systemd/system and /run/systemd/system, then the generator's
// output, where the image's unit lies.
var caseDirs = []string{"etc", "run", "gen"}

type mergeCase struct {
	// unit is loaded; file is the unit file, in gen/ (a template for an
	// instance; the unit itself by default).
	unit, file, body string
	// dropins are the drop-ins by path below the case's base.
	dropins map[string]string
	// probes are the settings compared with the dump.
	probes []probe
}

// probe is one setting and where the dump shows it.
type probe struct {
	key, label string
	// boolean: compare the final yes/no; otherwise every value assigned
	// must show in the label's lines exactly when the merge keeps it.
	boolean bool
	// show is how a value appears in the dump, when not as written.
	show func(string) string
	// since is the first version that knows the setting.
	since int
}

func p(key string) probe         { return probe{key: key, label: key} }
func pb(key string) probe        { return probe{key: key, label: key, boolean: true} }
func pl(key, label string) probe { return probe{key: key, label: label} }

func cmdLine(v string) string { return "Command Line: " + v }

var mergeCases = []mergeCase{
	{
		unit: "m1-web.service",
		body: "[Service]\nExecStart=/bin/true image\nExecStartPre=/bin/true image-pre\nEnvironmentFile=/etc/image-env\n" +
			"EnvironmentFile=-/etc/image-env2\nPassEnvironment=IMAGEVAR\nEnvironment=IMG=1\nUser=imageuser\nGroup=imagegroup\n" +
			"SupplementaryGroups=imagesupp\nPIDFile=/run/image.pid\n",
		dropins: map[string]string{
			// Reset and replace; reset only; append; override.
			"etc/m1-web.service.d/override.conf": "[Service]\nExecStart=\nExecStart=/bin/true admin\nEnvironmentFile=\n" +
				"PassEnvironment=ADMINVAR\nEnvironment=ADM=1\nUser=adminuser\nGroup=\nSupplementaryGroups=\nSupplementaryGroups=adminsupp\n",
			// /etc's override.conf hides /run's.
			"run/m1-web.service.d/override.conf": "[Service]\nUser=runuser\nExecStartPre=\n",
			"run/m1-web.service.d/zz.conf":       "[Service]\nPIDFile=\n",
		},
		probes: []probe{
			{key: "ExecStart", label: "ExecStart", show: cmdLine}, {key: "ExecStartPre", label: "ExecStartPre", show: cmdLine},
			p("EnvironmentFile"), p("PassEnvironment"), p("Environment"), p("User"), p("Group"), p("SupplementaryGroups"), p("PIDFile"),
		},
	},
	{
		unit: "m2-web.service",
		body: "[Service]\nExecStart=/bin/true\nStateDirectory=img-state\nRuntimeDirectory=img-run\nCacheDirectory=img-cache\nLogsDirectory=img-logs\n" +
			"ConfigurationDirectory=img-conf\nBindReadOnlyPaths=/img-ro\nBindPaths=/img-rw\nDeviceAllow=/dev/img-dev r\n" +
			"ReadWritePaths=/img-rwp\nReadOnlyPaths=/img-rop\nIPAddressAllow=10.1.1.1\nIPAddressDeny=10.2.2.2\n" +
			"OpenFile=/img-open\nRootImage=/img.raw\nReadOnlyDirectories=/img-rod\n",
		dropins: map[string]string{
			"etc/m2-web.service.d/10.conf": "[Service]\nStateDirectory=\nStateDirectory=adm-state\nRuntimeDirectory=adm-run\n" +
				"CacheDirectory=\nBindPaths=\nBindReadOnlyPaths=/adm-ro\nDeviceAllow=\nReadWriteDirectories=\nReadOnlyPaths=/adm-rop\n" +
				"IPAddressAllow=\nIPAddressDeny=10.3.3.3\nOpenFile=\nOpenFile=/adm-open\nRootImage=/adm.raw\nReadWriteDirectories=/adm-rwd\n",
		},
		probes: []probe{
			p("StateDirectory"), p("RuntimeDirectory"), p("CacheDirectory"), p("LogsDirectory"), p("ConfigurationDirectory"),
			p("BindReadOnlyPaths"), p("BindPaths"), p("DeviceAllow"), p("ReadWritePaths"), p("ReadOnlyPaths"),
			{key: "IPAddressAllow", label: "IPAddressAllow", show: func(v string) string { return v + "/32" }},
			{key: "IPAddressDeny", label: "IPAddressDeny", show: func(v string) string { return v + "/32" }},
			{key: "OpenFile", label: "Open File", since: 253}, p("RootImage"),
			pl("ReadWriteDirectories", "ReadWritePaths"), pl("ReadOnlyDirectories", "ReadOnlyPaths"),
		},
	},
	{
		unit: "m3-web.service",
		body: "[Service]\nExecStart=/bin/true\nRootDirectory=/srv/img-root\nRootImageOptions=root:img\nRootVerity=/img.verity\nRootHashSignature=/img.sig\n" +
			"MountImages=/img-mount.raw:/mnt\nExtensionImages=/img-ext.raw\nExtensionDirectories=/img-extdir\nTTYPath=/dev/img-tty\n" +
			"PAMName=imgpam\nUtmpIdentifier=imgutmp\nNetworkNamespacePath=/run/netns/img\nNice=-7\nOOMScoreAdjust=-77\n" +
			"IOSchedulingClass=realtime\nCPUSchedulingPolicy=fifo\nKillMode=none\nAmbientCapabilities=CAP_NET_ADMIN\n" +
			"StandardOutput=file:/img-out\nStandardInput=tty\nManagedOOMPreference=avoid\nStandardError=file:/img-err\n" +
			"CapabilityBoundingSet=CAP_SYS_ADMIN\n",
		dropins: map[string]string{
			"etc/m3-web.service.d/10.conf": "[Service]\nRootDirectory=\nRootImageOptions=\nRootVerity=/adm.verity\nRootHashSignature=\n" +
				"MountImages=\nExtensionImages=/adm-ext.raw\nExtensionDirectories=\nTTYPath=\nPAMName=\nUtmpIdentifier=admutmp\n" +
				"NetworkNamespacePath=\nNice=\nOOMScoreAdjust=-33\nIOSchedulingClass=\nCPUSchedulingPolicy=batch\nKillMode=mixed\n" +
				"AmbientCapabilities=\nAmbientCapabilities=CAP_CHOWN\nStandardOutput=\nStandardInput=\nManagedOOMPreference=\n" +
				"StandardError=file:/adm-err\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_KILL\n",
		},
		probes: []probe{
			p("RootDirectory"), p("RootImageOptions"), p("RootVerity"), p("RootHashSignature"), p("MountImages"), p("ExtensionImages"),
			p("ExtensionDirectories"), p("TTYPath"), p("PAMName"), p("UtmpIdentifier"), p("NetworkNamespacePath"), p("Nice"),
			p("OOMScoreAdjust"), p("IOSchedulingClass"), p("CPUSchedulingPolicy"), p("KillMode"), p("AmbientCapabilities"),
			{key: "StandardOutput", label: "StandardOutputFile", show: func(v string) string { return strings.TrimPrefix(v, "file:") }},
			p("StandardInput"), p("ManagedOOMPreference"), p("CapabilityBoundingSet"),
			{key: "StandardError", label: "StandardErrorFile", show: func(v string) string { return strings.TrimPrefix(v, "file:") }},
		},
	},
	{
		// Booleans: an empty or unparsable value is ignored, a valid one wins.
		unit: "m4-web.service",
		body: "[Unit]\nRefuseManualStop=yes\nIgnoreOnIsolate=yes\nSurviveFinalKillSignal=yes\n" +
			"[Service]\nExecStart=/bin/true\nTTYPath=/dev/tty9\nPermissionsStartOnly=yes\nRootDirectoryStartOnly=yes\nTTYReset=yes\nTTYVHangup=yes\nTTYVTDisallocate=yes\n" +
			"SendSIGKILL=no\nPrivateNetwork=yes\nPrivateDevices=yes\nRootEphemeral=yes\nDelegate=yes\nDynamicUser=yes\n",
		dropins: map[string]string{
			"etc/m4-web.service.d/10.conf": "[Unit]\nRefuseManualStop=\nIgnoreOnIsolate=no\nSurviveFinalKillSignal=maybe\n" +
				"[Service]\nPermissionsStartOnly=\nRootDirectoryStartOnly=off\nTTYReset=\nTTYVHangup=0\nTTYVTDisallocate=x\n" +
				"SendSIGKILL=\nPrivateNetwork=false\nPrivateDevices=\nRootEphemeral=n\nDelegate=no\nDynamicUser=no\n",
		},
		probes: []probe{
			pb("RefuseManualStop"), pb("IgnoreOnIsolate"), {key: "SurviveFinalKillSignal", label: "SurviveFinalKillSignal", boolean: true, since: 254},
			pb("PermissionsStartOnly"), pb("RootDirectoryStartOnly"), pb("TTYReset"), pb("TTYVHangup"), pb("TTYVTDisallocate"),
			pb("SendSIGKILL"), pb("PrivateNetwork"), pb("PrivateDevices"), {key: "RootEphemeral", label: "RootEphemeral", boolean: true, since: 254},
			pb("Delegate"), pb("DynamicUser"),
		},
	},
	{
		// An empty Delegate= turns delegation on.
		unit:    "m5-web.service",
		body:    "[Service]\nExecStart=/bin/true\nDelegate=no\n",
		dropins: map[string]string{"run/m5-web.service.d/10.conf": "[Service]\nDelegate=\n"},
		probes:  []probe{pb("Delegate")},
	},
	{
		// Dependencies cannot be dropped; actions and job modes: the last
		// accepted wins.
		unit: "m6-web.service",
		body: "[Unit]\nWants=m6-img.service\nFailureAction=reboot\nSuccessAction=poweroff\nOnFailureJobMode=isolate\nOnSuccessJobMode=flush\nJobTimeoutAction=reboot\n[Service]\nExecStart=/bin/true\n",
		dropins: map[string]string{
			"etc/m6-web.service.d/10.conf": "[Unit]\nWants=\nWants=m6-adm.service\nFailureAction=\nSuccessAction=exit\nOnFailureJobMode=\nOnSuccessJobMode=fail\nJobTimeoutAction=\n",
		},
		probes: []probe{p("Wants"), pl("FailureAction", "Failure Action"), pl("SuccessAction", "Success Action"), p("OnFailureJobMode"), p("OnSuccessJobMode"),
			pl("JobTimeoutAction", "Job Timeout Action")},
	},
	{
		// Any empty Listen*= removes every listener.
		unit: "m7-web.socket",
		body: "[Socket]\nListenStream=/run/m7-img.sock\nListenFIFO=/run/m7-img.fifo\nListenSpecial=/dev/m7-img\nListenSequentialPacket=/run/m7-img.seq\nReusePort=yes\nTransparent=yes\nExecStartPre=/bin/true img\n",
		dropins: map[string]string{
			"etc/m7-web.socket.d/10.conf": "[Socket]\nListenDatagram=\nListenStream=/run/m7-adm.sock\nListenDatagram=/run/m7-adm.dgram\nReusePort=\nTransparent=no\nExecStartPre=\n",
		},
		probes: []probe{p("ListenStream"), p("ListenFIFO"), p("ListenSpecial"), p("ListenSequentialPacket"), p("ListenDatagram"), pb("ReusePort"), pb("Transparent"), {key: "ExecStartPre", label: "ExecStartPre", show: cmdLine}},
	},
	{
		// An instance: the template's drop-ins, the dash prefix's, and
		// the instance's own; the prefix's hides the type's of one name.
		unit: "m8-web@one.service", file: "m8-web@.service",
		body: "[Service]\nExecStart=/bin/true\nEnvironmentFile=/etc/m8-img\nUser=m8img\nGroup=m8img\nPIDFile=/run/m8-img.pid\nNice=8\n",
		dropins: map[string]string{
			"etc/m8-web@.service.d/a.conf":    "[Service]\nEnvironmentFile=\n",
			"run/m8-web@one.service.d/b.conf": "[Service]\nUser=m8inst\n",
			"etc/m8-.service.d/c.conf":        "[Service]\nGroup=m8prefix\n",
			"run/m8-@one.service.d/d.conf":    "[Service]\nPIDFile=/run/m8-inst-prefix.pid\n",
			"etc/m8-web@two.service.d/a.conf": "[Service]\nNice=2\n",
		},
		probes: []probe{p("EnvironmentFile"), p("User"), p("Group"), p("PIDFile"), p("Nice")},
	},
}

// typeCase is run alone: a top-level service.d drop-in applies to every
// service PID 1 loads.
var typeCase = mergeCase{
	unit: "m9-web.service",
	body: "[Service]\nExecStart=/bin/true\nUser=m9img\nGroup=m9img\nEnvironmentFile=/etc/m9-img\n",
	dropins: map[string]string{
		"etc/service.d/pg-merge-a.conf":        "[Service]\nUser=m9type\n",
		"run/m9-web.service.d/pg-merge-a.conf": "[Service]\nGroup=m9own\n", // hides /etc's type drop-in of this name
		"run/service.d/pg-merge-b.conf":        "[Service]\nEnvironmentFile=\n",
		"etc/m9-web.service.d/pg-merge-0.conf": "[Service]\nUser=m9early\n",
	},
	probes: []probe{p("User"), p("Group"), p("EnvironmentFile")},
}

func TestMergeAgainstSystemd(t *testing.T) {
	for _, j := range systemdtest.All(t) {
		t.Run(fmt.Sprint(j.Version), func(t *testing.T) {
			runMergeCases(t, j, mergeCases)
			runMergeCases(t, j, []mergeCase{typeCase})
		})
	}
}

// runMergeCases writes the cases' files into one tree, loads them all
// through one target, and compares each probe.
func runMergeCases(t *testing.T, j systemdtest.Judge, cases []mergeCase) {
	base := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(base, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := "[Unit]\nDescription=merge cases\n"
	for _, c := range cases {
		file := c.file
		if file == "" {
			file = c.unit
		}
		write("gen/"+file, c.body)
		for p, content := range c.dropins {
			write(p, content)
		}
		target += "Wants=" + c.unit + "\n"
	}
	write("gen/pg-merge-cases.target", target)
	// TempDir is private; nobody must read it.
	filepath.Walk(base, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.Chmod(filepath.Dir(base), 0o755)
	dump := j.Load(t, base, caseDirs, "pg-merge-cases.target")

	for _, c := range cases {
		file := c.file
		if file == "" {
			file = c.unit
		}
		unit, err := Parse([]byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var dropins []DropIn
		paths := make([]string, 0, len(c.dropins))
		for p := range c.dropins {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			dropins = append(dropins, DropIn{Path: p, Data: []byte(c.dropins[p])})
		}
		merged := Merge([]string{c.unit}, unit, caseDirs, dropins)
		loaded, ok := dump[c.unit]
		if state := loaded["Unit Load State"]; !ok || len(state) != 1 || state[0] != "loaded" {
			t.Errorf("%s: not loaded (%q)", c.unit, state)
			continue
		}
		// Every assignment of the case, the unit's and the drop-ins'.
		all := append([]Assignment(nil), unit.Assignments...)
		for _, d := range dropins {
			if f, err := Parse(d.Data); err == nil {
				all = append(all, f.Assignments...)
			}
		}
		for _, pr := range c.probes {
			if j.Version < pr.since {
				continue
			}
			checkProbe(t, c.unit, pr, merged, all, loaded)
		}
	}
}

func checkProbe(t *testing.T, unit string, pr probe, merged *File, all []Assignment, loaded systemdtest.Unit) {
	t.Helper()
	var kept []string
	for _, a := range merged.Assignments {
		if a.Key == pr.key {
			kept = append(kept, a.Value)
		}
	}
	got := loaded[pr.label]
	if pr.boolean {
		if len(kept) == 0 {
			return // the default: not the merge's business
		}
		last := kept[len(kept)-1]
		want, ok := boolean.Parse(last)
		if !ok && last == "" {
			want, ok = true, true // Delegate=
		}
		// Delegate= shows its controllers when on: "(none)" on 257.
		if !ok || len(got) != 1 || (got[0] != "no") != want {
			t.Errorf("%s: %s: the merge keeps %q, PID 1 loaded %q", unit, pr.key, last, got)
		}
		return
	}
	text := strings.ToLower(strings.Join(got, "\n"))
	for _, a := range all {
		if a.Key != pr.key || a.Value == "" {
			continue
		}
		shown := a.Value
		if pr.show != nil {
			shown = pr.show(a.Value)
		}
		inForce := strings.Contains(text, strings.ToLower(shown))
		if inForce != contains(kept, a.Value) {
			t.Errorf("%s: %s=%s: the merge keeps it: %v, PID 1 loaded it: %v (%q)", unit, pr.key, a.Value, contains(kept, a.Value), inForce, got)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// unprobed are the settings of the table that `systemd --test` does not
// print: their kind is read from systemd's parsers (load-fragment.c) and
// systemd.exec(5), and shares the code path of a probed one where noted.
var unprobed = map[string]string{
	"LoadCredential":          "not printed; an empty one frees the credential map",
	"LoadCredentialEncrypted": "not printed; the same map and parser as LoadCredential=",
	"SetCredential":           "not printed; an empty one frees the credential map",
	"SetCredentialEncrypted":  "not printed; the same map and parser as SetCredential=",
	"ImportCredential":        "not printed; an empty one frees the set",
	"MountFlags":              "not printed; an enum parser that rejects an empty value",
	"USBFunctionDescriptors":  "not printed; the path parser of RootVerity=",
	"USBFunctionStrings":      "not printed; the path parser of RootVerity=",
	"ListenNetlink":           "the listener parser of ListenStream=",
	"ListenMessageQueue":      "the listener parser of ListenStream=",
	"ListenUSBFunction":       "the listener parser of ListenStream=",
}

// Every setting the merge does not treat as additive is proven against
// PID 1 or said above why it cannot be.
func TestKindsAreProbed(t *testing.T) {
	probed := map[string]bool{}
	for _, c := range append(mergeCases, typeCase) {
		for _, pr := range c.probes {
			probed[pr.key] = true
		}
	}
	for _, table := range []map[string]setting{execSettings, unitSettings, socketSettings} {
		for key := range table {
			if !probed[key] && unprobed[key] == "" {
				t.Errorf("%s: in the table of kinds, but no merge case probes it", key)
			}
		}
	}
}
