# conf/cairn.conf -> the package's /etc/cairn/cairn.conf (debian/rules).
s|^# changes nothing until you edit it\.|# changes nothing until you edit it, except cert-path and key-path, set by\
# the Debian package.|
/^#cert-path = /c\
# Debian: when neither file exists, the package's postinst makes a\
# self-signed certificate for this host here.  Replace both files (or point\
# these options at your own) and run "systemctl reload cairn".\
cert-path = "/etc/cairn/tls/cairn.pem"
/^#key-path = /c\
key-path = "/etc/cairn/tls/cairn.key"
