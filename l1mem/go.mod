module github.com/AndrewDonelson/strata/l1mem

go 1.24

require go.uber.org/goleak v1.3.0

require pgregory.net/rapid v1.3.0
